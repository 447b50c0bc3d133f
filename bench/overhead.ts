import process from 'node:process';
import {performance} from 'node:perf_hooks';
import got, {type Got, type Response} from 'got';
import {oauthHooks} from '../source/index.js';
import {dpopOverhead} from './dpop-overhead.js';
import {median, printResult, printTable, round, runConcurrently, type Servers} from './harness.js';

const rounds = 60;
const requestsPerRound = 2000;
const concurrency = 16;

export type Sample = {requestsPerSecond: number; cpuMicrosecondsPerRequest: number};

export async function measure(client: Got, requests = requestsPerRound): Promise<Sample> {
	// Start each round with an empty young generation, so one client does not pay for the other's garbage.
	(globalThis as {gc?: () => void}).gc?.();
	const cpuBefore = process.cpuUsage();
	const started = performance.now();
	await runConcurrently(requests, concurrency, async () => client('resource'));
	const elapsed = performance.now() - started;
	const cpu = process.cpuUsage(cpuBefore);
	return {
		requestsPerSecond: requests / (elapsed / 1000),
		cpuMicrosecondsPerRequest: (cpu.user + cpu.system) / requests,
	};
}

/**
got with got-oauth and a cached token, against got with a fixed authorization header: the price of the plugin on every request. A third client, the fixed header plus a no-op beforeRequest and afterResponse hook, shows what got itself charges for hooks, which no hook-based plugin avoids. Rounds are interleaved in rotating order, so drift in the machine's speed falls on all three alike.
*/
export async function overhead(servers: Servers) {
	await servers.configure({tokenDelay: 0, expiresIn: 3600, acceptAnyToken: true});
	const options = {prefixUrl: servers.apiUrl, retry: {limit: 0}};
	const headers = {authorization: 'Bearer a-fixed-token-of-typical-length-0123456789abcdef'};
	const clients = {
		fixed: got.extend(options, {headers}),
		hooks: got.extend(options, {headers, hooks: {beforeRequest: [() => undefined], afterResponse: [(response: Response) => response]}}),
		plugin: got.extend(options, oauthHooks({tokenEndpoint: servers.tokenEndpoint, clientId: 'bench', clientSecret: 'bench-secret'})),
	};
	const names = Object.keys(clients) as Array<keyof typeof clients>;

	// Warm up every path (JIT, sockets, the token).
	for (const name of names) {
		await measure(clients[name]);
	}

	const samples: Record<keyof typeof clients, Sample[]> = {fixed: [], hooks: [], plugin: []};
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
	]);
	console.log(`  throughput ratio ${round(throughputRatio, 3)} (target >= 0.97), CPU ratio ${round(cpuRatio, 3)} (target >= 0.98); got's own charge for two hooks ${round(hooksFloor, 2)} µs, got-oauth beyond it ${round(added('plugin', 'hooks'), 2)} µs`);

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
		pass: throughputRatio >= 0.97 && cpuRatio >= 0.98,
		// Informational: a proof is a signature per request, priced against the bearer path; no target.
		dpop: await dpopOverhead(servers, clients.plugin),
	};
	printResult('overhead', result);
	return result;
}
