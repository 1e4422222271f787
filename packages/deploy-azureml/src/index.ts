/** @mlmodel/deploy-azureml — placeholder; filled by the #16 work. */
export {};
