import got, {type Response} from 'got';
import {oauthHooks} from '../source/index.js';
import {printResult, printTable, round, type Servers} from './harness.js';
import {measurePaired} from './paired-rounds.js';

export const fixedHeaders = {authorization: 'Bearer a-fixed-token-of-typical-length-0123456789abcdef'};

/**
got with got-oauth and a cached token, against got with a fixed authorization header: the price of the plugin on every request. A third client, the fixed header plus a no-op beforeRequest and afterResponse hook, shows what got itself charges for hooks, which no hook-based plugin avoids.
*/
export async function overhead(servers: Servers) {
	await servers.configure({tokenDelay: 0, expiresIn: 3600, acceptAnyToken: true});
	const options = {prefixUrl: servers.apiUrl, retry: {limit: 0}};
	const fixed = got.extend(options, {headers: fixedHeaders});
	const hooks = got.extend(options, {headers: fixedHeaders, hooks: {beforeRequest: [() => undefined], afterResponse: [(response: Response) => response]}});
	const plugin = got.extend(options, oauthHooks({tokenEndpoint: servers.tokenEndpoint, clientId: 'bench', clientSecret: 'bench-secret'}));
	const measured = await measurePaired({
		fixed: {call: async () => fixed('resource')},
		hooks: {call: async () => hooks('resource')},
		plugin: {call: async () => plugin('resource')},
	});

	const throughputRatio = measured.throughputRatio('plugin', 'fixed');
	const cpuRatio = measured.cpuRatio('plugin', 'fixed');
	printTable(`Overhead: ${measured.rounds} rounds of 2000 requests per client, 16 in flight (medians)`, ['client', 'requests/s', 'CPU µs/request', 'added µs/request'], [
		['got, fixed authorization header', round(measured.rps('fixed'), 0), round(measured.cpu('fixed'), 1), 0],
		['got, fixed header + 2 no-op hooks', round(measured.rps('hooks'), 0), round(measured.cpu('hooks'), 1), round(measured.added('hooks', 'fixed'), 2)],
		['got + got-oauth, cached token', round(measured.rps('plugin'), 0), round(measured.cpu('plugin'), 1), round(measured.added('plugin', 'fixed'), 2)],
	]);
	console.log(`  throughput ratio ${round(throughputRatio, 3)} (target >= 0.97), CPU ratio ${round(cpuRatio, 3)} (target >= 0.98); got's own charge for two hooks ${round(measured.added('hooks', 'fixed'), 2)} µs, got-oauth beyond it ${round(measured.added('plugin', 'hooks'), 2)} µs`);

	const result = {
		throughputRatio: round(throughputRatio, 3),
		cpuRatio: round(cpuRatio, 3),
		addedCpuMicroseconds: round(measured.added('plugin', 'fixed'), 2),
		noOpHooksAddedCpuMicroseconds: round(measured.added('hooks', 'fixed'), 2),
		beyondNoOpHooksCpuMicroseconds: round(measured.added('plugin', 'hooks'), 2),
		fixedCpuMicroseconds: round(measured.cpu('fixed'), 1),
		pluginCpuMicroseconds: round(measured.cpu('plugin'), 1),
		pass: throughputRatio >= 0.97 && cpuRatio >= 0.98,
	};
	printResult('overhead', result);
	return result;
}
