import process from 'node:process';
import got from 'got';
import {oauthHooks} from '../source/index.js';
import {printResult, printTable, round, type Servers} from './harness.js';
import {measurePaired, type Variant} from './paired-rounds.js';

const algorithms = ['ES256', 'EdDSA', 'RS256', 'PS256'] as const;

/**
DPoP (RFC 9449) against bearer, with a cached token: each DPoP request signs a new proof with a hash of the token, so the difference is one signature and a little JSON per request, per algorithm.
*/
export async function dpopOverhead(servers: Servers) {
	await servers.configure({tokenDelay: 0, expiresIn: 3600, acceptAnyToken: true});
	const options = {prefixUrl: servers.apiUrl, retry: {limit: 0}};
	const config = {tokenEndpoint: servers.tokenEndpoint, clientId: 'bench', clientSecret: 'bench-secret'};
	const bearer = got.extend(options, oauthHooks(config));
	const variants: Record<string, Variant> = {bearer: {call: async () => bearer('resource')}};
	for (const alg of algorithms) {
		const client = got.extend(options, oauthHooks({...config, dpop: {alg}}));
		variants[alg] = {call: async () => client('resource')};
	}

	const measured = await measurePaired(variants, {rounds: Number(process.env.ROUNDS ?? 15), requestsPerRound: 1000});
	printTable(`DPoP: ${measured.rounds} rounds of 1000 requests per client, 16 in flight (medians)`, ['client', 'requests/s', 'CPU µs/request', 'added over bearer µs'], [
		['got + got-oauth, bearer', round(measured.rps('bearer'), 0), round(measured.cpu('bearer'), 1), 0],
		...algorithms.map(alg => [`got + got-oauth, DPoP ${alg}`, round(measured.rps(alg), 0), round(measured.cpu(alg), 1), round(measured.added(alg, 'bearer'), 1)]),
	]);
	const result = {
		...Object.fromEntries(algorithms.map(alg => [alg, {cpuMicroseconds: round(measured.cpu(alg), 1), addedOverBearerMicroseconds: round(measured.added(alg, 'bearer'), 1)}])),
		// Informational: a proof is a signature per request; no target.
		pass: true,
	};
	printResult('dpop-overhead', result);
	return result;
}
