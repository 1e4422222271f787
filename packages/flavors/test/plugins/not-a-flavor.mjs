export const something = 42;
