import process from 'node:process';
import {checkOptionalString, checkUrl, isNonEmptyString} from '../checks.js';
import {ConfigurationError} from '../errors.js';
import {tokenFromFile} from './from-file.js';

export type EntraWorkloadIdentityOptions = {
	/**
	The application (client) ID of the app registration or user-assigned managed identity that trusts the pod's service account.

	@default process.env.AZURE_CLIENT_ID
	*/
	clientId?: string;

	/**
	The Microsoft Entra tenant: its ID, or a domain name.

	@default process.env.AZURE_TENANT_ID
	*/
	tenantId?: string;

	/**
	The file the platform writes the service account token to.

	@default process.env.AZURE_FEDERATED_TOKEN_FILE
	*/
	tokenFile?: string;

	/**
	The Microsoft Entra endpoint of the cloud the tenant is in.

	@default process.env.AZURE_AUTHORITY_HOST, else 'https://login.microsoftonline.com/'
	*/
	authorityHost?: string;

	/**
	Where to read the variables from.

	@default process.env
	*/
	env?: Readonly<Record<string, string | undefined>>;
};

/**
What `entraWorkloadIdentity()` configures: spread it into the configuration, and add the `scope`.
*/
export type EntraWorkloadIdentityConfig = {
	readonly tokenEndpoint: string;
	readonly clientId: string;
	readonly clientAssertion: () => Promise<string>;
};

const defaultAuthorityHost = 'https://login.microsoftonline.com/';

/**
The variables the Microsoft Entra Workload ID webhook sets, each with the option that stands in for it.
*/
const variables = {
	clientId: 'AZURE_CLIENT_ID',
	tenantId: 'AZURE_TENANT_ID',
	tokenFile: 'AZURE_FEDERATED_TOKEN_FILE',
	authorityHost: 'AZURE_AUTHORITY_HOST',
} as const;

type Setting = {readonly value: string; readonly name: string};

function setting(options: EntraWorkloadIdentityOptions, option: keyof typeof variables, env: Readonly<Record<string, string | undefined>>): Setting | undefined {
	const given = checkOptionalString(option, options[option]);
	if (given !== undefined) {
		return {value: given, name: option};
	}

	const variable = variables[option];
	const value = env[variable];
	return isNonEmptyString(value) ? {value, name: variable} : undefined;
}

function required(options: EntraWorkloadIdentityOptions, option: 'clientId' | 'tenantId' | 'tokenFile', env: Readonly<Record<string, string | undefined>>): Setting {
	const found = setting(options, option, env);
	if (found === undefined) {
		const whoSetsIt = 'the Microsoft Entra Workload ID webhook sets it in pods labelled `azure.workload.identity/use: "true"` whose service account names a client ID';
		throw new ConfigurationError(variables[option], `is not set: ${whoSetsIt}; or pass \`${option}\``);
	}

	return found;
}

/**
Microsoft Entra Workload ID: the client credentials grant, with the Kubernetes service account token the platform projects into the pod as the client assertion, in place of a secret. Reads `AZURE_CLIENT_ID`, `AZURE_TENANT_ID`, `AZURE_FEDERATED_TOKEN_FILE` and `AZURE_AUTHORITY_HOST`, which the workload identity webhook sets; the token file is read again for every token request, as the kubelet rotates it.

A variable that is not set, or a token file that cannot be read, is a `ConfigurationError`.

@example
```
oauthHooks({...entraWorkloadIdentity(), scope: 'https://graph.microsoft.com/.default'});
```

@see https://learn.microsoft.com/entra/workload-id/workload-identity-federation
*/
export function entraWorkloadIdentity(options: EntraWorkloadIdentityOptions = {}): EntraWorkloadIdentityConfig {
	const env = options.env ?? process.env;
	const clientId = required(options, 'clientId', env);
	const tenant = required(options, 'tenantId', env);
	// A tenant is a GUID or a domain name; anything else would change the path of the token endpoint.
	if (!/^[\w\-.]+$/v.test(tenant.value)) {
		throw new ConfigurationError(tenant.name, 'must be a tenant ID or a domain name');
	}

	const authority = setting(options, 'authorityHost', env) ?? {value: defaultAuthorityHost, name: variables.authorityHost};
	const authorityUrl = checkUrl(authority.name, authority.value);
	// The tenant is a path segment below the authority, whether or not it ends with a slash.
	authorityUrl.pathname = authorityUrl.pathname.replace(/\/?$/v, '/');
	return {
		tokenEndpoint: new URL(`${tenant.value}/oauth2/v2.0/token`, authorityUrl).href,
		clientId: clientId.value,
		clientAssertion: tokenFromFile(required(options, 'tokenFile', env).value),
	};
}
