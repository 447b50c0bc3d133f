/*
The ky and fetch entry points' types: what they return fits where it goes, and misuse does not compile.
*/
import got from 'got';
import ky, {type KyInstance} from 'ky';
import {expectTypeOf} from 'expect-type';
import {oauthFetch, createTokenSource as createFetchTokenSource, type FetchFunction} from '../source/fetch/index.js';
import {kyOAuthHooks, type KyOAuthHooks} from '../source/ky/index.js';
import {createTokenSource, oauthHooks} from '../source/index.js';

const config = {tokenEndpoint: 'https://auth.example/token', clientId: 'id', clientSecret: 'secret'};
const source = createTokenSource(config);

// ky.extend and ky.create take the result; one token source serves got, ky and fetch.
expectTypeOf(kyOAuthHooks(config)).toEqualTypeOf<KyOAuthHooks>();
expectTypeOf(ky.extend).toBeCallableWith(kyOAuthHooks(source));
expectTypeOf(ky.create).toBeCallableWith(kyOAuthHooks(config, {origins: ['https://api.example']}));
expectTypeOf(ky.create({prefix: 'https://api.example'}).extend(kyOAuthHooks(source))).toEqualTypeOf<KyInstance>();
expectTypeOf(got.extend).toBeCallableWith(oauthHooks(source));

// oauthFetch gives something that stands in for the global fetch.
expectTypeOf(oauthFetch(source)).toEqualTypeOf<FetchFunction>();
expectTypeOf(oauthFetch(config, {fetch, origins: [new URL('https://api.example')]})).toExtend<typeof fetch>();

// The entries hand out the same token source.
expectTypeOf(createFetchTokenSource).toEqualTypeOf(createTokenSource);

// @ts-expect-error: not a configuration.
kyOAuthHooks('https://auth.example/token');
// @ts-expect-error: a misspelt option.
oauthFetch({...config, clientSecert: 'secret'});
// @ts-expect-error: fetch is a function.
oauthFetch(config, {fetch: 'https://api.example'});
// @ts-expect-error: origins is a list.
kyOAuthHooks(config, {origins: 'https://api.example'});
