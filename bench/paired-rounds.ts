import process from 'node:process';
import {performance} from 'node:perf_hooks';
import {median, runConcurrently} from './harness.js';

/**
One API request, its body read to the end.
*/
export type Call = () => Promise<unknown>;

/**
Set up something for the length of one client's round (a subscriber); returns its undoing.
*/
export type During = () => () => void;

export type Variant = {readonly call: Call; readonly during?: During};

type Sample = {requestsPerSecond: number; cpuMicrosecondsPerRequest: number};

export type PairedOptions = {
	/**
	Rounds per client, interleaved in rotating order.
	@default 60, or the ROUNDS environment variable
	*/
	rounds?: number;
	requestsPerRound?: number;
	concurrency?: number;
};

export type PairedResult<Name extends string> = {
	readonly rounds: number;
	/**
	Median CPU µs per request.
	*/
	cpu(name: Name): number;
	/**
	Median requests per second.
	*/
	rps(name: Name): number;
	/**
	Median over rounds of the CPU µs per request `name` adds to `against` in the same round.
	*/
	added(name: Name, against: Name): number;
	/**
	Median over rounds of `against`'s CPU per request over `name`'s: 1 is free.
	*/
	cpuRatio(name: Name, against: Name): number;
	/**
	Median over rounds of `name`'s throughput over `against`'s.
	*/
	throughputRatio(name: Name, against: Name): number;
};

async function measure({call, during}: Variant, requests: number, concurrency: number): Promise<Sample> {
	const stop = during?.();
	// Start each round with an empty young generation, so one client does not pay for another's garbage.
	(globalThis as {gc?: () => void}).gc?.();
	const cpuBefore = process.cpuUsage();
	const started = performance.now();
	await runConcurrently(requests, concurrency, call);
	const elapsed = performance.now() - started;
	const cpu = process.cpuUsage(cpuBefore);
	stop?.();
	return {requestsPerSecond: requests / (elapsed / 1000), cpuMicrosecondsPerRequest: (cpu.user + cpu.system) / requests};
}

/**
Clients measured in interleaved, rotating rounds, so that drift in the machine's speed falls on all alike; compared in pairs, round by round.
*/
export async function measurePaired<Name extends string>(variants: Record<Name, Variant>, options: PairedOptions = {}): Promise<PairedResult<Name>> {
	const {rounds = Number(process.env.ROUNDS ?? 60), requestsPerRound = 2000, concurrency = 16} = options;
	const names = Object.keys(variants) as Name[];
	// Warm up every path (JIT, sockets, the token).
	for (const name of names) {
		await measure(variants[name], requestsPerRound, concurrency);
	}

	const samples = Object.fromEntries(names.map(name => [name, [] as Sample[]])) as Record<Name, Sample[]>;
	for (let index = 0; index < rounds; index++) {
		for (let position = 0; position < names.length; position++) {
			const name = names[(index + position) % names.length]!;
			samples[name].push(await measure(variants[name], requestsPerRound, concurrency));
		}
	}

	const paired = (name: Name, against: Name, value: (sample: Sample, base: Sample) => number) => median(samples[name].map((sample, index) => value(sample, samples[against][index]!)));
	return {
		rounds,
		cpu: name => median(samples[name].map(sample => sample.cpuMicrosecondsPerRequest)),
		rps: name => median(samples[name].map(sample => sample.requestsPerSecond)),
		added: (name, against) => paired(name, against, (sample, base) => sample.cpuMicrosecondsPerRequest - base.cpuMicrosecondsPerRequest),
		cpuRatio: (name, against) => paired(name, against, (sample, base) => base.cpuMicrosecondsPerRequest / sample.cpuMicrosecondsPerRequest),
		throughputRatio: (name, against) => paired(name, against, (sample, base) => sample.requestsPerSecond / base.requestsPerSecond),
	};
}
