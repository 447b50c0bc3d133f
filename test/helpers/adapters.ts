/*
The ky and fetch adapters behind one face, so each guarantee is tested on each of them with the same test: a call takes fetch's arguments and gives back a Response, a 401 included.
*/
import ky, {type Options} from 'ky';
import {oauthFetch, type OAuthFetchOptions} from '../../source/fetch/index.js';
import {kyOAuthHooks} from '../../source/ky/index.js';
import type {OAuthConfig, TokenSource} from '../../source/index.js';

export type Caller = (input: string | Request, init?: RequestInit) => Promise<Response>;

export type Adapter = {
	readonly name: 'ky' | 'fetch';
	/** A client made as a user makes one, sending through `options.fetch` if given. ky's: `throwHttpErrors: false` and `retry: 0`, so every status comes back as a response and only our retry sends twice. */
	client(configOrSource: OAuthConfig | TokenSource, options?: OAuthFetchOptions): Caller;
};

export const kyAdapter: Adapter = {
	name: 'ky',
	client(configOrSource, {fetch, ...options} = {}) {
		const api = ky.extend(kyOAuthHooks(configOrSource, options)).extend({throwHttpErrors: false, retry: 0, fetch});
		return async (input, init) => api(input, init as Options);
	},
};

export const fetchAdapter: Adapter = {
	name: 'fetch',
	client: (configOrSource, options) => oauthFetch(configOrSource, options),
};

export const adapters: readonly Adapter[] = [kyAdapter, fetchAdapter];

export type Echo = {path: string; authorization?: string};

/** What a call answered: its status, or its JSON body. */
export const statusOf = async (response: Promise<Response>): Promise<number> => response.then(({status}) => status);

export const jsonOf = async <Body = Echo>(response: Promise<Response>): Promise<Body> => response.then(async answer => answer.json() as Promise<Body>);
