import {checkStringList, isPlainObject, checkUrl, checkOptionalString, optionNames} from '../checks.js';
import {ConfigurationError, describeValue} from '../errors.js';
import type {FormEntries, FormParameters} from '../token-endpoint/fetch-token.js';

export type TokenParameterOptions = {
	/**
	Sent as `scope` with every grant; an array is joined with spaces.

	@see https://www.rfc-editor.org/rfc/rfc6749#section-3.3
	*/
	scope?: string | readonly string[];

	/**
	Sent as `audience`, for Auth0 and providers like it, and for the token exchange grant.

	@see https://www.rfc-editor.org/rfc/rfc8693#section-2.1
	*/
	audience?: string;

	/**
	Resource indicators, sent as one `resource` parameter each: absolute URIs without a fragment.

	@see https://www.rfc-editor.org/rfc/rfc8707#section-2
	*/
	resource?: string | readonly string[];

	/**
	More form parameters for every token request, for providers with their own. An array is sent as one parameter per value. Parameters got-oauth sets itself (`grant_type`, `client_id`, `scope`, …) are refused: use their options.
	*/
	extraParams?: FormParameters;
};

export const tokenParameterOptionNames = optionNames<TokenParameterOptions>()(['scope', 'audience', 'resource', 'extraParams']);

/**
The form parameters these options set, with the option that sets each.
*/
export const tokenParameterNames = {scope: 'scope', audience: 'audience', resource: 'resource'} as const;

function checkExtraParameters(value: unknown, reserved: ReadonlyMap<string, string>): FormEntries {
	if (value === undefined) {
		return [];
	}

	if (!isPlainObject(value)) {
		throw new ConfigurationError('extraParams', `must be an object of form parameters, got ${describeValue(value)}`);
	}

	return Object.entries(value).flatMap(([name, values]): FormEntries => {
		const option = reserved.get(name);
		if (option !== undefined) {
			throw new ConfigurationError(`extraParams.${name}`, `is set by got-oauth: use \`${option}\``);
		}

		const list: unknown[] = Array.isArray(values) ? values : [values];
		if (list.some(item => typeof item !== 'string')) {
			throw new ConfigurationError(`extraParams.${name}`, `must be a string or an array of strings, got ${describeValue(values)}`);
		}

		return list.map(item => [name, String(item)]);
	});
}

/**
The parameters every token request carries, in order: `scope`, `audience`, each `resource`, then `extraParams`. `reserved` maps the parameters got-oauth sets to the option that sets each.
*/
export function checkTokenParameters(options: TokenParameterOptions, reserved: ReadonlyMap<string, string>): FormEntries {
	const scope = checkStringList('scope', options.scope);
	const audience = checkOptionalString('audience', options.audience);
	const resources = checkStringList('resource', options.resource);
	for (const resource of resources) {
		if (checkUrl('resource', resource).hash !== '') {
			throw new ConfigurationError('resource', 'must not contain a fragment (RFC 8707 §2)');
		}
	}

	return [
		...(scope.length > 0 ? [['scope', scope.join(' ')] as [string, string]] : []),
		...(audience === undefined ? [] : [['audience', audience] as [string, string]]),
		...resources.map((resource): [string, string] => ['resource', resource]),
		...checkExtraParameters(options.extraParams, reserved),
	];
}

/**
A grant's own parameters, then each common one whose name they do not have: what a grant sets, it sets alone.
*/
export function withCommonParameters(own: FormEntries, common: FormEntries): FormEntries {
	const named = new Set(own.map(([name]) => name));
	return [...own, ...common.filter(([name]) => !named.has(name))];
}
