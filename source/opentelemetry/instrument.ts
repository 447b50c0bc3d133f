import {subscribe, unsubscribe} from 'node:diagnostics_channel';
import {
	SpanKind,
	SpanStatusCode,
	metrics,
	trace,
	type Attributes,
	type MeterProvider,
	type ObservableResult,
	type Span,
	type TracerProvider,
} from '@opentelemetry/api';
import {
	channelNames,
	type ApiRetryMessage,
	type CacheHitMessage,
	type CacheMissMessage,
	type CoolDownRejectMessage,
	type DpopNonceRetryMessage,
	type SourceLabels,
	type StoreMessage,
	type TokenRequestMessage,
} from '../diagnostics/channels.js';
import {attributeNames, instrumentationScope, metricNames, tokenRequestSpanName} from './names.js';

export type InstrumentOAuthOptions = {
	/**
	@default The global meter provider, `metrics.getMeterProvider()`
	*/
	meterProvider?: MeterProvider;
	/**
	@default The global tracer provider, `trace.getTracerProvider()`
	*/
	tracerProvider?: TracerProvider;
};

/**
The semantic conventions' buckets for HTTP client durations, in seconds.
*/
const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

function sourceAttributes({clientId, grantType}: SourceLabels): Attributes {
	return {
		...(clientId !== undefined && {[attributeNames.clientId]: clientId}),
		...(grantType !== undefined && {[attributeNames.grantType]: grantType}),
	};
}

const defaultPorts: Readonly<Record<string, number>> = {'http:': 80, 'https:': 443};

function serverAttributes(address: string): Attributes {
	const url = new URL(address);
	return {'server.address': url.hostname, 'server.port': url.port === '' ? defaultPorts[url.protocol] : Number(url.port)};
}

/**
`error.type` for a failed token request: the RFC 6749 §5.2 code, else the network failure's code, else the HTTP status of a failed response, else the error's name.
*/
function errorType(error: Error): string {
	const {error: code, statusCode, cause} = error as Error & {error?: unknown; statusCode?: unknown; cause?: {code?: unknown}};
	if (typeof code === 'string') {
		return code;
	}

	if (typeof cause?.code === 'string') {
		return cause.code;
	}

	return typeof statusCode === 'number' && statusCode >= 400 ? String(statusCode) : error.name;
}

function tokenRequestAttributes(message: TokenRequestMessage): Attributes {
	return {
		...sourceAttributes(message),
		...serverAttributes(message.tokenEndpoint),
		'http.request.method': 'POST',
	};
}

function settledAttributes(message: TokenRequestMessage): Attributes {
	const isFailure = 'error' in message;
	return {
		...tokenRequestAttributes(message),
		[attributeNames.outcome]: isFailure ? 'failure' : 'success',
		...(message.statusCode !== undefined && {'http.response.status_code': message.statusCode}),
		// A token request fails with an Error: its own `TokenError`s, and got's errors made into them.
		...(isFailure && {'error.type': errorType(message.error as Error)}),
	};
}

type Tally = {readonly attributes: Attributes; value: number};

/**
Record got-oauth's `diagnostics_channel` events as OpenTelemetry metrics, and each token request as a span. Returns a function that stops.

Call it once: each call subscribes again, and would count everything twice.
*/
export function instrumentOAuth(options: InstrumentOAuthOptions = {}): () => void {
	const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(instrumentationScope);
	const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(instrumentationScope);

	const tokenRequests = meter.createCounter(metricNames.tokenRequests, {unit: '{request}', description: 'Token requests to the token endpoint, got\'s retries of one counted once'});
	const tokenRequestDuration = meter.createHistogram(metricNames.tokenRequestDuration, {
		unit: 's',
		description: 'Duration of token requests, retries included',
		advice: {explicitBucketBoundaries: durationBuckets},
	});
	const cacheLookups = meter.createObservableCounter(metricNames.cacheLookups, {unit: '{lookup}', description: 'Callers served a cached token (hit) or waiting for one (miss)'});
	const apiRetries = meter.createCounter(metricNames.apiRetries, {unit: '{retry}', description: 'API requests sent again with a new token after the API rejected one'});
	const coolDownRejections = meter.createCounter(metricNames.coolDownRejections, {unit: '{rejection}', description: 'Callers answered with the last token request failure during the cool-down'});
	const storeFailures = meter.createCounter(metricNames.storeFailures, {unit: '{failure}', description: 'Shared token store calls that failed or timed out'});
	const dpopNonceRetries = meter.createCounter(metricNames.dpopNonceRetries, {unit: '{retry}', description: 'Requests sent again with the DPoP nonce the server asked for'});

	// A hit is counted on every request served from the cache: a number goes up, and the meter reads the totals when it collects.
	const tallies = new Map<string, Tally>();
	const hitTallies = new WeakMap<CacheHitMessage, Tally>();
	const tally = (labels: SourceLabels, result: 'hit' | 'miss'): Tally => {
		const key = `${result}\u{0}${labels.clientId ?? ''}\u{0}${labels.grantType ?? ''}`;
		let found = tallies.get(key);
		if (found === undefined) {
			found = {attributes: {...sourceAttributes(labels), [attributeNames.cacheResult]: result}, value: 0};
			tallies.set(key, found);
		}

		return found;
	};

	const observeLookups = (result: ObservableResult): void => {
		for (const {attributes, value} of tallies.values()) {
			result.observe(value, attributes);
		}
	};

	cacheLookups.addCallback(observeLookups);

	const spans = new WeakMap<TokenRequestMessage, Span>();
	const handlers: Record<string, (message: unknown) => void> = {
		// The tracing channel's events, by their channel names.
		[`tracing:${channelNames.tokenRequest}:start`](context) {
			const message = context as TokenRequestMessage;
			spans.set(message, tracer.startSpan(tokenRequestSpanName, {
				kind: SpanKind.CLIENT,
				attributes: {...tokenRequestAttributes(message), 'url.full': message.tokenEndpoint},
			}));
		},
		[`tracing:${channelNames.tokenRequest}:asyncEnd`](context) {
			const message = context as TokenRequestMessage;
			const attributes = settledAttributes(message);
			tokenRequests.add(1, attributes);
			// Set before asyncStart, with the outcome.
			tokenRequestDuration.record(message.duration! / 1000, attributes);

			const span = spans.get(message);
			if (span === undefined) {
				return;
			}

			spans.delete(message);
			span.setAttributes({
				[attributeNames.attempts]: message.attempts,
				...(message.statusCode !== undefined && {'http.response.status_code': message.statusCode}),
				...(message.expiresIn !== undefined && {[attributeNames.expiresIn]: message.expiresIn}),
				...(message.token !== undefined && {[attributeNames.tokenFingerprint]: message.token}),
			});
			if ('error' in message) {
				const error = message.error as Error;
				span.setAttribute('error.type', attributes['error.type']);
				span.recordException(error);
				span.setStatus({code: SpanStatusCode.ERROR, message: error.message});
			}

			span.end();
		},
		[channelNames.cacheHit](message) {
			const hit = message as CacheHitMessage;
			let found = hitTallies.get(hit);
			if (found === undefined) {
				found = tally(hit, 'hit');
				hitTallies.set(hit, found);
			}

			found.value++;
		},
		[channelNames.cacheMiss](message) {
			tally(message as CacheMissMessage, 'miss').value++;
		},
		[channelNames.apiRetry](message) {
			const retry = message as ApiRetryMessage;
			apiRetries.add(1, {...sourceAttributes(retry), ...serverAttributes(retry.origin), 'http.request.method': retry.method, 'http.response.status_code': retry.statusCode});
		},
		[channelNames.coolDownReject](message) {
			coolDownRejections.add(1, sourceAttributes(message as CoolDownRejectMessage));
		},
		[channelNames.store](message) {
			const event = message as StoreMessage;
			if (event.type === 'store-failure') {
				storeFailures.add(1, {...sourceAttributes(event), [attributeNames.storeOperation]: event.operation, 'error.type': event.reason});
			}
		},
		[channelNames.dpopNonceRetry](message) {
			const retry = message as DpopNonceRetryMessage;
			dpopNonceRetries.add(1, {...sourceAttributes(retry), ...serverAttributes(retry.origin), [attributeNames.dpopServer]: retry.server});
		},
	};

	for (const [name, handler] of Object.entries(handlers)) {
		subscribe(name, handler);
	}

	let isSubscribed = true;
	return () => {
		if (!isSubscribed) {
			return;
		}

		isSubscribed = false;
		for (const [name, handler] of Object.entries(handlers)) {
			unsubscribe(name, handler);
		}

		cacheLookups.removeCallback(observeLookups);
	};
}
