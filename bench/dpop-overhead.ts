import got, {type Got} from 'got';
import {oauthHooks} from '../source/index.js';
import {median, printTable, round, type Servers} from './harness.js';
import {measure, type Sample} from './overhead.js';

const algorithms = ['ES256', 'EdDSA', 'RS256', 'PS256'] as const;
const rounds = 15;
const requestsPerRound = 1000;

export type DpopCost = {cpuMicroseconds: number; addedOverBearerMicroseconds: number; requestsPerSecond: number};

/**
DPoP (RFC 9449) against bearer, with a cached token: each DPoP request signs a new proof with a hash of the token, so the difference is one signature and a little JSON per request, per algorithm. Rounds are interleaved with the bearer client in rotating order, and the added cost is the median of paired rounds.
*/
export async function dpopOverhead(servers: Servers, bearer: Got): Promise<Record<string, DpopCost>> {
	const options = {prefixUrl: servers.apiUrl, retry: {limit: 0}};
	const clients: Record<string, Got> = {bearer};
	for (const alg of algorithms) {
		clients[alg] = got.extend(options, oauthHooks({tokenEndpoint: servers.tokenEndpoint, clientId: 'bench', clientSecret: 'bench-secret', dpop: {alg}}));
	}

	const names = Object.keys(clients);
	for (const name of names) {
		await measure(clients[name]!, requestsPerRound);
	}

	const samples: Record<string, Sample[]> = Object.fromEntries(names.map(name => [name, []]));
	for (let index = 0; index < rounds; index++) {
		for (let position = 0; position < names.length; position++) {
			const name = names[(index + position) % names.length]!;
			samples[name]!.push(await measure(clients[name]!, requestsPerRound));
		}
	}

	const cpu = (name: string) => median(samples[name]!.map(sample => sample.cpuMicrosecondsPerRequest));
	const rps = (name: string) => median(samples[name]!.map(sample => sample.requestsPerSecond));
	const added = (name: string) => median(samples[name]!.map((sample, index) => sample.cpuMicrosecondsPerRequest - samples.bearer![index]!.cpuMicrosecondsPerRequest));
	printTable(`DPoP: ${rounds} rounds of ${requestsPerRound} requests per client (medians)`, ['client', 'requests/s', 'CPU µs/request', 'added over bearer µs'], [
		['got + got-oauth, bearer', round(rps('bearer'), 0), round(cpu('bearer'), 1), 0],
		...algorithms.map(alg => [`got + got-oauth, DPoP ${alg}`, round(rps(alg), 0), round(cpu(alg), 1), round(added(alg), 1)]),
	]);
	return Object.fromEntries(algorithms.map(alg => [alg, {cpuMicroseconds: round(cpu(alg), 1), addedOverBearerMicroseconds: round(added(alg), 1), requestsPerSecond: round(rps(alg), 0)}]));
}
