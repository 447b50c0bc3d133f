/*
`getTokenSync()` with a cached token, what the beforeRequest hook calls on every request: time and heap growth per call, in a process of its own, with nobody subscribed to got-oauth's channels, a counting subscriber on every one, or `instrumentOAuth()`. A process of its own, because subscribing and unsubscribing swaps a channel's prototype, and the code that inlined it runs in a slower tier for a while after: a benchmark that toggles subscribers would measure that, not the steady state a service runs in. Prints one JSON line.
*/
import {subscribe} from 'node:diagnostics_channel';
import process from 'node:process';
import {MeterProvider, MetricReader} from '@opentelemetry/sdk-metrics';
import {TracerProvider} from '@opentelemetry/sdk-trace';
import {channelNames, TokenSource} from '../source/index.js';
import {instrumentOAuth} from '../source/opentelemetry/index.js';
import {median} from './harness.js';

export type Variant = 'without' | 'subscribed' | 'opentelemetry';

/** A reader nobody collects from: the meter still records into it. */
class IdleReader extends MetricReader {
	protected override async onShutdown(): Promise<void> {
		return undefined;
	}

	protected override async onForceFlush(): Promise<void> {
		return undefined;
	}
}

const variant = process.argv[2] as Variant;
if (variant === 'subscribed') {
	const counter = {events: 0};
	const count = () => {
		counter.events++;
	};

	for (const name of [...['start', 'end', 'asyncStart', 'asyncEnd', 'error'].map(event => `tracing:${channelNames.tokenRequest}:${event}`), ...Object.values(channelNames)]) {
		subscribe(name, count);
	}
} else if (variant === 'opentelemetry') {
	instrumentOAuth({meterProvider: new MeterProvider({readers: [new IdleReader()]}), tracerProvider: new TracerProvider()});
}

const source = new TokenSource({fetchToken: async () => ({accessToken: 'a-cached-token-of-typical-length-0123456789abcdef', tokenType: 'Bearer', expiresIn: 3600})});
await source.getToken();

/** Batches small enough that the young generation never fills, so no collection hides an allocation; medians over the batches. */
function measure(): {nanoseconds: number; bytes: number} {
	const batch = 100_000;
	const samples: Array<{nanoseconds: number; bytes: number}> = [];
	for (let index = 0; index < 30; index++) {
		(globalThis as {gc?: () => void}).gc?.();
		const heapBefore = process.memoryUsage().heapUsed;
		const started = process.hrtime.bigint();
		for (let call = 0; call < batch; call++) {
			source.getTokenSync();
		}

		const elapsed = Number(process.hrtime.bigint() - started);
		samples.push({nanoseconds: elapsed / batch, bytes: (process.memoryUsage().heapUsed - heapBefore) / batch});
	}

	return {nanoseconds: median(samples.map(sample => sample.nanoseconds)), bytes: median(samples.map(sample => sample.bytes))};
}

// Once to warm up (JIT, a hit's message), then measured.
measure();
console.log(JSON.stringify(measure()));
