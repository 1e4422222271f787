/** @mlmodel/deploy-sagemaker — placeholder; filled by the #15 work. */
export {};
