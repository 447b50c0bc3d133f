// What readme examples use without defining: values a user brings.
declare const clientId: string;
declare const clientSecret: string;
declare const privateKeyPem: string;
declare const certificatePem: string;
declare const transportCertificatePem: string;
declare const transportKeyPem: string;
declare const tenantId: string;
declare const userToken: () => Promise<string>;
