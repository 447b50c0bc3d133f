import process from 'node:process';
import {performance} from 'node:perf_hooks';
import got, {type Response} from 'got';
import ky from 'ky';
import {oauthFetch} from '../source/fetch/index.js';
import {oauthHooks} from '../source/index.js';
import {kyOAuthHooks} from '../source/ky/index.js';
import {median, printResult, printTable, round, runConcurrently, type Servers} from './harness.js';

const rounds = Number(process.env.ROUNDS ?? 60);
const requestsPerRound = 2000;
const concurrency = 16;

type Sample = {requestsPerSecond: number; cpuMicrosecondsPerRequest: number};

/** One API request, its body read to the end. */
type Call = () => Promise<unknown>;

async function measure(call: Call): Promise<Sample> {
	// Start each round with an empty young generation, so one client does not pay for the other's garbage.
	(globalThis as {gc?: () => void}).gc?.();
	const cpuBefore = process.cpuUsage();
	const started = performance.now();
	await runConcurrently(requestsPerRound, concurrency, call);
	const elapsed = performance.now() - started;
	const cpu = process.cpuUsage(cpuBefore);
	return {
		requestsPerSecond: requestsPerRound / (elapsed / 1000),
		cpuMicrosecondsPerRequest: (cpu.user + cpu.system) / requestsPerRound,
	};
}

/**
got with got-oauth and a cached token, against got with a fixed authorization header: the price of the plugin on every request. A third client, the fixed header plus a no-op beforeRequest and afterResponse hook, shows what got itself charges for hooks, which no hook-based plugin avoids. ky and the global fetch get the same pairing: each adapter against the same client with a fixed header. Rounds are interleaved in rotating order, so drift in the machine's speed falls on every client alike.
*/
export async function overhead(servers: Servers) {
	await servers.configure({tokenDelay: 0, expiresIn: 3600, acceptAnyToken: true});
	const options = {prefixUrl: servers.apiUrl, retry: {limit: 0}};
	const headers = {authorization: 'Bearer a-fixed-token-of-typical-length-0123456789abcdef'};
	const config = {tokenEndpoint: servers.tokenEndpoint, clientId: 'bench', clientSecret: 'bench-secret'};
	const gotFixed = got.extend(options, {headers});
	const gotHooks = got.extend(options, {headers, hooks: {beforeRequest: [() => undefined], afterResponse: [(response: Response) => response]}});
	const gotPlugin = got.extend(options, oauthHooks(config));
	const kyOptions = {prefix: servers.apiUrl, retry: 0};
	const kyFixed = ky.create({...kyOptions, headers});
	const kyAdapter = ky.create(kyOptions).extend(kyOAuthHooks(config));
	const resource = `${servers.apiUrl}/resource`;
	const fetchAdapter = oauthFetch(config);
	const clients: Record<'fixed' | 'hooks' | 'plugin' | 'kyFixed' | 'kyAdapter' | 'fetchFixed' | 'fetchAdapter', Call> = {
		fixed: async () => gotFixed('resource'),
		hooks: async () => gotHooks('resource'),
		plugin: async () => gotPlugin('resource'),
		kyFixed: async () => kyFixed('resource').arrayBuffer(),
		kyAdapter: async () => kyAdapter('resource').arrayBuffer(),
		fetchFixed: async () => fetch(resource, {headers}).then(async response => response.arrayBuffer()),
		fetchAdapter: async () => fetchAdapter(resource).then(async response => response.arrayBuffer()),
	};
	const names = Object.keys(clients) as Array<keyof typeof clients>;

	// Warm up every path (JIT, sockets, the token).
	for (const name of names) {
		await measure(clients[name]);
	}

	const samples = Object.fromEntries(names.map(name => [name, [] as Sample[]])) as Record<keyof typeof clients, Sample[]>;
	for (let index = 0; index < rounds; index++) {
		for (let position = 0; position < names.length; position++) {
			const name = names[(index + position) % names.length]!;
			samples[name].push(await measure(clients[name]));
		}
	}

	const paired = (name: keyof typeof clients, against: keyof typeof clients, value: (sample: Sample, base: Sample) => number) => median(samples[name].map((sample, index) => value(sample, samples[against][index]!)));
	const throughputRatio = paired('plugin', 'fixed', (sample, base) => sample.requestsPerSecond / base.requestsPerSecond);
	const cpuRatio = paired('plugin', 'fixed', (sample, base) => base.cpuMicrosecondsPerRequest / sample.cpuMicrosecondsPerRequest);
	const added = (name: keyof typeof clients, against: keyof typeof clients) => paired(name, against, (sample, base) => sample.cpuMicrosecondsPerRequest - base.cpuMicrosecondsPerRequest);
	const addedCpu = added('plugin', 'fixed');
	const hooksFloor = added('hooks', 'fixed');
	const cpu = (name: keyof typeof clients) => median(samples[name].map(sample => sample.cpuMicrosecondsPerRequest));
	const rps = (name: keyof typeof clients) => median(samples[name].map(sample => sample.requestsPerSecond));

	printTable(`Overhead: ${rounds} rounds of ${requestsPerRound} requests per client, ${concurrency} in flight (medians)`, ['client', 'requests/s', 'CPU µs/request', 'added µs/request'], [
		['got, fixed authorization header', round(rps('fixed'), 0), round(cpu('fixed'), 1), 0],
		['got, fixed header + 2 no-op hooks', round(rps('hooks'), 0), round(cpu('hooks'), 1), round(hooksFloor, 2)],
		['got + got-oauth, cached token', round(rps('plugin'), 0), round(cpu('plugin'), 1), round(addedCpu, 2)],
		['ky, fixed authorization header', round(rps('kyFixed'), 0), round(cpu('kyFixed'), 1), 0],
		['ky + got-oauth/ky, cached token', round(rps('kyAdapter'), 0), round(cpu('kyAdapter'), 1), round(added('kyAdapter', 'kyFixed'), 2)],
		['fetch, fixed authorization header', round(rps('fetchFixed'), 0), round(cpu('fetchFixed'), 1), 0],
		['got-oauth/fetch, cached token', round(rps('fetchAdapter'), 0), round(cpu('fetchAdapter'), 1), round(added('fetchAdapter', 'fetchFixed'), 2)],
	]);
	console.log(`  throughput ratio ${round(throughputRatio, 3)} (target >= 0.97), CPU ratio ${round(cpuRatio, 3)} (target >= 0.98); got's own charge for two hooks ${round(hooksFloor, 2)} µs, got-oauth beyond it ${round(added('plugin', 'hooks'), 2)} µs`);

	const adapterRatios = (name: 'kyAdapter' | 'fetchAdapter', against: 'kyFixed' | 'fetchFixed') => ({
		throughput: paired(name, against, (sample, base) => sample.requestsPerSecond / base.requestsPerSecond),
		cpu: paired(name, against, (sample, base) => base.cpuMicrosecondsPerRequest / sample.cpuMicrosecondsPerRequest),
	});
	const kyRatios = adapterRatios('kyAdapter', 'kyFixed');
	const fetchRatios = adapterRatios('fetchAdapter', 'fetchFixed');
	console.log(`  ky: throughput ratio ${round(kyRatios.throughput, 3)}, CPU ratio ${round(kyRatios.cpu, 3)}; fetch: throughput ratio ${round(fetchRatios.throughput, 3)}, CPU ratio ${round(fetchRatios.cpu, 3)}`);

	const result = {
		throughputRatio: round(throughputRatio, 3),
		cpuRatio: round(cpuRatio, 3),
		addedCpuMicroseconds: round(addedCpu, 2),
		noOpHooksAddedCpuMicroseconds: round(hooksFloor, 2),
		beyondNoOpHooksCpuMicroseconds: round(added('plugin', 'hooks'), 2),
		fixedCpuMicroseconds: round(cpu('fixed'), 1),
		pluginCpuMicroseconds: round(cpu('plugin'), 1),
		fixedRequestsPerSecond: round(rps('fixed'), 0),
		pluginRequestsPerSecond: round(rps('plugin'), 0),
		kyAddedCpuMicroseconds: round(added('kyAdapter', 'kyFixed'), 2),
		kyCpuRatio: round(kyRatios.cpu, 3),
		fetchAddedCpuMicroseconds: round(added('fetchAdapter', 'fetchFixed'), 2),
		fetchCpuRatio: round(fetchRatios.cpu, 3),
		// The target is got's: the ky and fetch rows are reported beside it.
		pass: throughputRatio >= 0.97 && cpuRatio >= 0.98,
	};
	printResult('overhead', result);
	return result;
}
