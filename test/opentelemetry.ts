/*
`got-oauth/opentelemetry` with the OpenTelemetry SDK itself (a MeterProvider read in memory, a TracerProvider exporting to InMemorySpanExporter), against oidc-provider and an API that verifies its tokens. Channels are process-wide, so the tests run one at a time.
*/
import {createHash} from 'node:crypto';
import {readFile} from 'node:fs/promises';
import {subscribe, unsubscribe} from 'node:diagnostics_channel';
import test, {type ExecutionContext} from 'ava';
import got from 'got';
import {metrics, trace, SpanKind, SpanStatusCode, type Attributes} from '@opentelemetry/api';
import {
	AggregationTemporality,
	DataPointType,
	MeterProvider,
	MetricReader,
	type DataPoint,
	type Histogram,
	type MetricData,
} from '@opentelemetry/sdk-metrics';
import {InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan} from '@opentelemetry/sdk-trace';
import {createTokenSource, oauthHooks, TokenError, TokenSource, type OAuthConfig} from '../source/index.js';
import {instrumentOAuth, metricNames, tokenRequestSpanName} from '../source/opentelemetry/index.js';
import {publishDpopNonceRetry} from '../source/diagnostics/channels.js';
import {secrets, startWithApi} from './helpers/authorization-server.js';
import {findLeak, forbiddenForms, tokenRequestChannels} from './helpers/channels.js';
import {fakeClock} from './helpers/fakes.js';
import {closedPort, startApiServer} from './helpers/local-servers.js';

class MemoryReader extends MetricReader {
	constructor() {
		super({aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE});
	}

	// Read by `collect()` alone: nothing to flush or shut down.
	protected override async onShutdown(): Promise<void> {
		return undefined;
	}

	protected override async onForceFlush(): Promise<void> {
		return undefined;
	}
}

type Telemetry = {
	collect(): Promise<MetricData[]>;
	spans(): ReadableSpan[];
	stop(): void;
};

function instrument(t: ExecutionContext): Telemetry {
	const reader = new MemoryReader();
	const meterProvider = new MeterProvider({readers: [reader]});
	const exporter = new InMemorySpanExporter();
	const tracerProvider = new TracerProvider({spanProcessors: [new SimpleSpanProcessor({exporter})]});
	const stop = instrumentOAuth({meterProvider, tracerProvider});
	t.teardown(stop);
	return {
		async collect() {
			const {resourceMetrics, errors} = await reader.collect();
			t.deepEqual(errors, []);
			return resourceMetrics.scopeMetrics.filter(({scope}) => scope.name === 'got-oauth').flatMap(scope => scope.metrics);
		},
		spans: () => exporter.getFinishedSpans(),
		stop,
	};
}

const fingerprint = (token: string): string => createHash('sha256').update(token).digest('hex').slice(0, 8);
const labels = {'got_oauth.client_id': 'basic', 'got_oauth.grant_type': 'client_credentials'};

function metric(all: MetricData[], name: string): MetricData {
	const found = all.find(({descriptor}) => descriptor.name === name);
	if (found === undefined) {
		throw new Error(`no metric ${name} among ${all.map(({descriptor}) => descriptor.name).join(', ')}`);
	}

	return found;
}

type Point = {attributes: Attributes; value: unknown};

const sorted = (list: Point[]): Point[] => list.toSorted((a, b) => JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes)));

/** Each data point as its attributes and value, sorted for comparison. */
const points = (data: MetricData): Point[] => sorted((data.dataPoints as Array<DataPoint<unknown>>).map(({attributes, value}) => ({attributes, value})));

async function setup(t: ExecutionContext, extra: Partial<OAuthConfig> = {}) {
	const telemetry = instrument(t);
	const {server, api} = await startWithApi(t);
	const clock = fakeClock();
	const source = createTokenSource({tokenEndpoint: server.tokenEndpoint, clientId: 'basic', clientSecret: secrets.basic, clock, tokenRequest: {retry: {limit: 0}}, ...extra});
	const client = got.extend({prefixUrl: api.url, retry: {limit: 0}, throwHttpErrors: false}, oauthHooks(source));
	return {telemetry, server, api, clock, source, client};
}

test.serial('metrics: names, units, attributes and counts for token requests, cache lookups, 401 retries and cool-down rejections', async t => {
	const {telemetry, server, api, source, client} = await setup(t);
	const tokens: string[] = [];
	await client.get('fetch');
	tokens.push(source.peek()!);
	await client.get('reuse');
	await client.get('reuse');
	api.revokeAll();
	await client.get('retry');
	tokens.push(source.peek()!);
	api.revokeAll();
	server.failNextTokenResponses(1);
	await t.throwsAsync(client.get('token-endpoint-fails'), {instanceOf: TokenError});
	await t.throwsAsync(client.get('cool-down'), {instanceOf: TokenError});

	const all = await telemetry.collect();
	const {port} = new URL(server.tokenEndpoint);
	const tokenEndpoint = {'server.address': '127.0.0.1', 'server.port': Number(port), 'http.request.method': 'POST', ...labels};
	const succeeded = {...tokenEndpoint, 'got_oauth.outcome': 'success', 'http.response.status_code': 200};
	const failed = {...tokenEndpoint, 'got_oauth.outcome': 'failure', 'http.response.status_code': 503, 'error.type': 'temporarily_unavailable'};

	const requests = metric(all, metricNames.tokenRequests);
	t.like(requests.descriptor, {name: 'got_oauth.token.requests', unit: '{request}'});
	t.deepEqual(points(requests), sorted([{attributes: failed, value: 1}, {attributes: succeeded, value: 2}]));

	const duration = metric(all, metricNames.tokenRequestDuration);
	t.like(duration.descriptor, {name: 'got_oauth.token.request.duration', unit: 's'});
	t.is(duration.dataPointType, DataPointType.HISTOGRAM);
	const histograms = (duration.dataPoints as Array<DataPoint<Histogram>>).map(({attributes, value}) => ({attributes, count: value.count, sum: value.sum, boundaries: value.buckets.boundaries}));
	const success = histograms.find(({attributes}) => attributes['got_oauth.outcome'] === 'success')!;
	t.deepEqual(success.attributes, succeeded);
	t.is(success.count, 2);
	// Seconds, not milliseconds: two loopback token requests take well under 10 s, and more than nothing.
	t.true(success.sum! > 0 && success.sum! < 10, String(success.sum));
	t.deepEqual(success.boundaries, [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);
	t.like(histograms.find(({attributes}) => attributes['got_oauth.outcome'] === 'failure'), {attributes: failed, count: 1});

	// Calls: fetch (miss), reuse twice (hits), retry (hit, then a miss for the retry), failure (hit, then a miss), cool-down (miss).
	const lookups = metric(all, metricNames.cacheLookups);
	t.like(lookups.descriptor, {name: 'got_oauth.cache.lookups', unit: '{lookup}'});
	t.deepEqual(points(lookups), sorted([
		{attributes: {...labels, 'got_oauth.cache.result': 'hit'}, value: 4},
		{attributes: {...labels, 'got_oauth.cache.result': 'miss'}, value: 4},
	]));

	const retries = metric(all, metricNames.apiRetries);
	t.like(retries.descriptor, {name: 'got_oauth.api.retries', unit: '{retry}'});
	const apiServer = {'server.address': '127.0.0.1', 'server.port': Number(new URL(api.url).port)};
	t.deepEqual(points(retries), [{attributes: {...labels, ...apiServer, 'http.request.method': 'GET', 'http.response.status_code': 401}, value: 2}]);

	const rejections = metric(all, metricNames.coolDownRejections);
	t.like(rejections.descriptor, {name: 'got_oauth.cool_down.rejections', unit: '{rejection}'});
	t.deepEqual(points(rejections), [{attributes: labels, value: 1}]);

	// Nothing recorded holds the secret or a token.
	t.is(findLeak(all, forbiddenForms([secrets.basic, ...tokens])), undefined);
});

test.serial('spans: one per token request, with the HTTP client attributes, and the failure recorded', async t => {
	const {telemetry, server, api, source, client} = await setup(t);
	await client.get('fetch');
	const token = source.peek()!;
	await client.get('reuse');
	api.revokeAll();
	server.failNextTokenResponses(1);
	await t.throwsAsync(client.get('fails'), {instanceOf: TokenError});

	const spans = telemetry.spans();
	t.is(spans.length, 2, 'no span for a cached token, none for API requests');
	const [ok, failed] = spans;
	const {port} = new URL(server.tokenEndpoint);
	const common = {'server.address': '127.0.0.1', 'server.port': Number(port), 'url.full': server.tokenEndpoint, 'http.request.method': 'POST', ...labels, 'got_oauth.attempts': 1};
	t.is(ok!.name, tokenRequestSpanName);
	t.is(ok!.kind, SpanKind.CLIENT);
	t.deepEqual(ok!.attributes, {...common, 'http.response.status_code': 200, 'got_oauth.token.expires_in': 60, 'got_oauth.token.fingerprint': fingerprint(token)});
	t.is(ok!.status.code, SpanStatusCode.UNSET);
	t.deepEqual(ok!.events, []);

	t.deepEqual(failed!.attributes, {...common, 'http.response.status_code': 503, 'error.type': 'temporarily_unavailable'});
	t.is(failed!.status.code, SpanStatusCode.ERROR);
	t.regex(failed!.status.message!, /temporarily_unavailable/v);
	t.is(failed!.events.length, 1);
	t.like(failed!.events[0], {name: 'exception', attributes: {'exception.type': 'ERR_OAUTH_TOKEN'}});
	t.regex(String(failed!.events[0]!.attributes!['exception.message']), /HTTP 503/v);
	t.true(failed!.endTime[0] > 0 || failed!.endTime[1] > 0);

	t.is(findLeak(spans.map(span => ({name: span.name, attributes: span.attributes, events: span.events, status: span.status})), forbiddenForms([secrets.basic, token])), undefined);
});

test.serial('error.type: the network failure\'s code, a failed response\'s status, else the error\'s name', async t => {
	const telemetry = instrument(t);
	const port = await closedPort();
	const noJson = await startApiServer(() => ({status: 200, body: 'not json'}));
	t.teardown(async () => noJson.close());
	const rejecting = await startApiServer(() => ({status: 401, body: {ok: false}}));
	t.teardown(async () => rejecting.close());
	const fetchFrom = async (tokenEndpoint: string) =>
		createTokenSource({tokenEndpoint, clientId: 'basic', clientSecret: secrets.basic, tokenRequest: {retry: {limit: 0}}, allowInsecureRequests: true}).getToken();
	await t.throwsAsync(fetchFrom(`http://127.0.0.1:${port}/token`));
	await t.throwsAsync(fetchFrom(rejecting.url('/token')));
	await t.throwsAsync(fetchFrom(noJson.url('/token')));

	const types = telemetry.spans().map(span => span.attributes['error.type']);
	t.deepEqual(types, ['ECONNREFUSED', '401', 'TokenError']);
	t.deepEqual(telemetry.spans().map(span => span.attributes['http.response.status_code']), [undefined, 401, 200]);
});

test.serial('store failures and DPoP nonce retries are counted with their attributes', async t => {
	const telemetry = instrument(t);
	const {server} = await startWithApi(t);
	const failing = {
		async get() {
			throw Object.assign(new Error('reset'), {code: 'ECONNRESET'});
		},
		async set() {
			return true;
		},
		async delete() {
			return true;
		},
	};
	await createTokenSource({tokenEndpoint: server.tokenEndpoint, clientId: 'basic', clientSecret: secrets.basic, store: failing}).getToken();
	publishDpopNonceRetry({clientId: 'basic', grantType: 'client_credentials'}, 'resource-server', new URL('https://api.example/reports?page=2'));

	const all = await telemetry.collect();
	const failures = metric(all, metricNames.storeFailures);
	t.like(failures.descriptor, {name: 'got_oauth.store.failures', unit: '{failure}'});
	t.deepEqual(points(failures), [{attributes: {...labels, 'got_oauth.store.operation': 'get', 'error.type': 'ECONNRESET'}, value: 1}]);
	const dpop = metric(all, metricNames.dpopNonceRetries);
	t.like(dpop.descriptor, {name: 'got_oauth.dpop.nonce_retries', unit: '{retry}'});
	t.deepEqual(points(dpop), [{attributes: {...labels, 'server.address': 'api.example', 'server.port': 443, 'got_oauth.dpop.server': 'resource-server'}, value: 1}]);
});

test.serial('a token source around your own fetchToken: lookups are counted without client attributes, and no token request is traced', async t => {
	const telemetry = instrument(t);
	const source = new TokenSource({fetchToken: async () => ({accessToken: 'own-token', tokenType: 'Bearer', expiresIn: 60})});
	await source.getToken();
	source.getTokenSync();
	const all = await telemetry.collect();
	t.deepEqual(points(metric(all, metricNames.cacheLookups)), sorted([
		{attributes: {'got_oauth.cache.result': 'hit'}, value: 1},
		{attributes: {'got_oauth.cache.result': 'miss'}, value: 1},
	]));
	t.is(all.find(({descriptor}) => descriptor.name === metricNames.tokenRequests), undefined);
	t.is(telemetry.spans().length, 0);
});

test.serial('the returned function stops it: nothing more is counted or traced, and calling it twice is harmless', async t => {
	const {telemetry, client, source} = await setup(t);
	await client.get('fetch');
	telemetry.stop();
	telemetry.stop();
	source.invalidate(source.peek()!);
	await client.get('fetch-again');
	await client.get('reuse');
	t.is(telemetry.spans().length, 1);
	const all = await telemetry.collect();
	t.deepEqual(points(metric(all, metricNames.tokenRequests)).map(({value}) => value), [1]);
	t.is(all.find(({descriptor}) => descriptor.name === metricNames.cacheLookups), undefined, 'the lookups callback is gone');
});

test.serial('started while a token request is under way: it is counted, and no half span is made', async t => {
	const {server} = await startWithApi(t);
	let telemetry: Telemetry | undefined;
	const onStart = () => {
		telemetry ??= instrument(t);
	};

	subscribe(tokenRequestChannels.start, onStart);
	try {
		await createTokenSource({tokenEndpoint: server.tokenEndpoint, clientId: 'basic', clientSecret: secrets.basic}).getToken();
	} finally {
		unsubscribe(tokenRequestChannels.start, onStart);
	}

	t.is(telemetry!.spans().length, 0);
	const requests = metric(await telemetry!.collect(), metricNames.tokenRequests);
	t.deepEqual(points(requests).map(({value}) => value), [1]);
});

test.serial('without providers it uses the global ones', async t => {
	const reader = new MemoryReader();
	const exporter = new InMemorySpanExporter();
	t.true(metrics.setGlobalMeterProvider(new MeterProvider({readers: [reader]})));
	const spanProcessors = [new SimpleSpanProcessor({exporter})];
	t.true(trace.setGlobalTracerProvider(new TracerProvider({spanProcessors})));
	t.teardown(() => {
		metrics.disable();
		trace.disable();
	});
	const stop = instrumentOAuth();
	t.teardown(stop);
	const {server} = await startWithApi(t);
	await createTokenSource({tokenEndpoint: server.tokenEndpoint, clientId: 'basic', clientSecret: secrets.basic}).getToken();
	t.is(exporter.getFinishedSpans().length, 1);
	const {resourceMetrics} = await reader.collect();
	const names = resourceMetrics.scopeMetrics.flatMap(scope => scope.metrics).map(({descriptor}) => descriptor.name);
	t.true(names.includes(metricNames.tokenRequests));
});

/** Every package a module imports, through its relative imports, read from the source. */
async function packagesImportedBy(entry: string): Promise<Set<string>> {
	const packages = new Set<string>();
	const visited = new Set<string>();
	const pending = [new URL(entry, import.meta.url)];
	while (pending.length > 0) {
		const file = pending.pop()!;
		if (visited.has(file.href)) {
			continue;
		}

		visited.add(file.href);
		const text = await readFile(file, 'utf8');
		for (const match of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(?<specifier>[^']+)'/gmv)) {
			const {specifier} = match.groups!;
			if (specifier!.startsWith('.')) {
				pending.push(new URL(specifier!.replace(/\.js$/v, '.ts'), file));
			} else {
				packages.add(specifier!);
			}
		}
	}

	return packages;
}

test('the got entry point never imports @opentelemetry/api; the opentelemetry entry point does', async t => {
	const main = await packagesImportedBy('../source/index.ts');
	t.true(main.has('got'));
	t.false([...main].some(name => name.startsWith('@opentelemetry/')), [...main].join(', '));
	const subpath = await packagesImportedBy('../source/opentelemetry/index.ts');
	t.true(subpath.has('@opentelemetry/api'));
});
