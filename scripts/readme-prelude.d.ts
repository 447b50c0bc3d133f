// What readme examples use without defining: values a user loads from a secret store or the environment.
declare const clientId: string;
declare const clientSecret: string;
declare const privateKeyPem: string;
declare const certificatePem: string;
declare const caPem: string;
declare const transportCertificatePem: string;
declare const transportKeyPem: string;
declare const tenantId: string;
declare const redisUrl: string;
/** The user's own access token, from the request being served. */
declare const userAccessToken: string;
declare const refreshToken: string;
declare function saveRefreshToken(refreshToken: string): Promise<void>;
