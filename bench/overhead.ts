import process from 'node:process';
import {performance} from 'node:perf_hooks';
import got, {type Got} from 'got';
import {oauthHooks} from '../source/index.js';
import {median, printResult, printTable, round, runConcurrently, type Servers} from './harness.js';

const rounds = 80;
const requestsPerRound = 2000;
const concurrency = 16;

type Sample = {requestsPerSecond: number; cpuMicrosecondsPerRequest: number};

async function measure(client: Got): Promise<Sample> {
	// Start each round with an empty young generation, so one client does not pay for the other's garbage.
	(globalThis as {gc?: () => void}).gc?.();
	const cpuBefore = process.cpuUsage();
	const started = performance.now();
	await runConcurrently(requestsPerRound, concurrency, async () => client('resource'));
	const elapsed = performance.now() - started;
	const cpu = process.cpuUsage(cpuBefore);
	return {
		requestsPerSecond: requestsPerRound / (elapsed / 1000),
		cpuMicrosecondsPerRequest: (cpu.user + cpu.system) / requestsPerRound,
	};
}

/**
got with got-oauth and a cached token, against got with a fixed authorization header: the price of the plugin on every request. Paired, interleaved rounds cancel out drift in the machine's speed.
*/
export async function overhead(servers: Servers) {
	await servers.configure({tokenDelay: 0, expiresIn: 3600, acceptAnyToken: true});
	const options = {prefixUrl: servers.apiUrl, retry: {limit: 0}};
	const fixed = got.extend(options, {headers: {authorization: 'Bearer a-fixed-token-of-typical-length-0123456789abcdef'}});
	const plugin = got.extend(options, oauthHooks({tokenEndpoint: servers.tokenEndpoint, clientId: 'bench', clientSecret: 'bench-secret'}));

	// Warm up both paths (JIT, sockets, the token).
	await measure(fixed);
	await measure(plugin);

	const fixedSamples: Sample[] = [];
	const pluginSamples: Sample[] = [];
	for (let index = 0; index < rounds; index++) {
		const order = index % 2 === 0 ? [fixed, plugin] : [plugin, fixed];
		for (const client of order) {
			const sample = await measure(client);
			(client === fixed ? fixedSamples : pluginSamples).push(sample);
		}
	}

	const throughputRatio = median(pluginSamples.map((sample, index) => sample.requestsPerSecond / fixedSamples[index]!.requestsPerSecond));
	const cpuRatio = median(pluginSamples.map((sample, index) => fixedSamples[index]!.cpuMicrosecondsPerRequest / sample.cpuMicrosecondsPerRequest));
	const addedCpu = median(pluginSamples.map((sample, index) => sample.cpuMicrosecondsPerRequest - fixedSamples[index]!.cpuMicrosecondsPerRequest));
	const fixedCpu = median(fixedSamples.map(sample => sample.cpuMicrosecondsPerRequest));
	const pluginCpu = median(pluginSamples.map(sample => sample.cpuMicrosecondsPerRequest));
	const fixedRps = median(fixedSamples.map(sample => sample.requestsPerSecond));
	const pluginRps = median(pluginSamples.map(sample => sample.requestsPerSecond));

	printTable(`Overhead: ${rounds} paired rounds of ${requestsPerRound} requests, ${concurrency} in flight (medians)`, ['client', 'requests/s', 'CPU µs/request'], [
		['got, fixed authorization header', round(fixedRps, 0), round(fixedCpu, 1)],
		['got + got-oauth, cached token', round(pluginRps, 0), round(pluginCpu, 1)],
	]);
	console.log(`  throughput ratio ${round(throughputRatio, 3)} (target >= 0.97), CPU ratio ${round(cpuRatio, 3)} (target >= 0.98), added ${round(addedCpu, 2)} µs/request`);

	const result = {
		throughputRatio: round(throughputRatio, 3),
		cpuRatio: round(cpuRatio, 3),
		addedCpuMicroseconds: round(addedCpu, 2),
		fixedCpuMicroseconds: round(fixedCpu, 1),
		pluginCpuMicroseconds: round(pluginCpu, 1),
		fixedRequestsPerSecond: round(fixedRps, 0),
		pluginRequestsPerSecond: round(pluginRps, 0),
		pass: throughputRatio >= 0.97 && cpuRatio >= 0.98,
	};
	printResult('overhead', result);
	return result;
}
