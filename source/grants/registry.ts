import {ConfigurationError} from '../errors.js';
import {clientCredentials} from './client-credentials.js';
import {prepareCustomGrant, type CustomGrant} from './custom.js';
import type {GrantContext, PreparedGrant} from './grant.js';
import {jwtBearer} from './jwt-bearer.js';
import {refreshToken} from './refresh-token.js';
import {tokenExchange} from './token-exchange.js';

/**
Every built-in grant, one file each. Adding one is adding its file and a line here: its options join the configuration type, its parameters the names `extraParams` may not set, and its identity the cache key.
*/
export const grants = [clientCredentials, refreshToken, jwtBearer, tokenExchange] as const;

type BuiltInGrant = (typeof grants)[number];

export type GrantType = BuiltInGrant['type'];

type OptionsOf<Definition> = Definition extends {prepare(options: infer Options, ...rest: never[]): unknown} ? (unknown extends Options ? never : Options) : never;
type UnionToIntersection<Union> = (Union extends unknown ? (value: Union) => void : never) extends (value: infer Intersection) => void ? Intersection : never;

/**
The options of every built-in grant.
*/
export type GrantOptions = UnionToIntersection<OptionsOf<BuiltInGrant>>;

export type GrantSelection = GrantOptions & {
	/**
	How to get a token: a grant type, or a function for any other grant, which gets `requestToken(parameters)` to post its own parameters with the configured client authentication.

	@default 'client_credentials'
	*/
	grant?: GrantType | CustomGrant;
};

export const grantOptionNames = ['grant', ...grants.flatMap(grant => grant.optionNames)] as const;

/**
The form parameters the grants set, with the option that sets each.
*/
export const grantParameterNames: ReadonlyMap<string, string> = new Map([
	['grant_type', 'grant'],
	...grants.flatMap(grant => Object.entries(grant.parameters)),
]);

/**
Options of a grant other than `selected` are a mistake: they would be ignored.
*/
function refuseOthersOptions(options: GrantSelection, selected: BuiltInGrant | undefined): void {
	for (const other of grants) {
		const option = other === selected ? undefined : other.optionNames.find(name => (options as Record<string, unknown>)[name] !== undefined);
		if (option !== undefined) {
			throw new ConfigurationError(option, `is only used with \`grant: '${other.type}'\``);
		}
	}
}

export function prepareGrant(options: GrantSelection, context: GrantContext): PreparedGrant {
	const selected = options.grant ?? 'client_credentials';
	if (typeof selected === 'function') {
		refuseOthersOptions(options, undefined);
		return prepareCustomGrant(selected);
	}

	const definition = grants.find(grant => grant.type === selected);
	if (definition === undefined) {
		throw new ConfigurationError('grant', `must be one of ${grants.map(grant => grant.type).join(', ')}, or a function`);
	}

	refuseOthersOptions(options, definition);
	return definition.prepare(options, context);
}
