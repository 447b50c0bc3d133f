/*
The observability API's types: `npm run typecheck` compiles this file, and each `@ts-expect-error` fails the build if the misuse below it ever compiles.
*/
import {subscribe} from 'node:diagnostics_channel';
import {expectTypeOf} from 'expect-type';
import type {MeterProvider, TracerProvider} from '@opentelemetry/api';
import {channelNames, type CacheHitMessage, type ChannelMessages, type StoreMessage, type TokenRequestMessage} from '../source/index.js';
import {instrumentOAuth, metricNames} from '../source/opentelemetry/index.js';

// Channel names are literal types, and each maps to its message type.
expectTypeOf(channelNames.cacheHit).toEqualTypeOf<'got-oauth:cache:hit'>();
expectTypeOf<ChannelMessages[typeof channelNames.cacheHit]>().toEqualTypeOf<CacheHitMessage>();
expectTypeOf<ChannelMessages[typeof channelNames.tokenRequest]>().toEqualTypeOf<TokenRequestMessage>();
subscribe(channelNames.cacheHit, message => {
	const {token, expiresAt, clientId} = message as CacheHitMessage;
	expectTypeOf(token).toBeString();
	expectTypeOf(expiresAt).toBeNumber();
	expectTypeOf(clientId).toEqualTypeOf<string | undefined>();
});

// A store message is told apart by its type.
declare const store: StoreMessage;
if (store.type === 'store-failure') {
	expectTypeOf(store.operation).toBeString();
}

declare const hit: CacheHitMessage;
// @ts-expect-error -- a hit message is read-only.
hit.token = 'x';

// One call, with optional providers, returns the function that stops.
expectTypeOf(instrumentOAuth).toBeCallableWith();
declare const meterProvider: MeterProvider;
declare const tracerProvider: TracerProvider;
expectTypeOf(instrumentOAuth).toBeCallableWith({meterProvider, tracerProvider});
expectTypeOf(instrumentOAuth()).toEqualTypeOf<() => void>();
expectTypeOf(metricNames.tokenRequests).toEqualTypeOf<'got_oauth.token.requests'>();

// @ts-expect-error -- not a provider.
instrumentOAuth({meterProvider: 'global'});
