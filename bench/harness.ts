import {execFileSync, fork, spawn, type ChildProcess} from 'node:child_process';
import {availableParallelism} from 'node:os';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import type {ServerCommand, ServerReady, ServerStats} from './server.js';

export type Servers = {
	apiUrl: string;
	tokenEndpoint: string;
	configure(options: Omit<Extract<ServerCommand, {type: 'configure'}>, 'type'>): Promise<void>;
	revokeAll(): Promise<void>;
	stats(): Promise<ServerStats>;
	close(): void;
};

function hasTaskset(): boolean {
	try {
		execFileSync('taskset', ['-p', String(process.pid)], {stdio: 'ignore'});
		return true;
	} catch {
		return false;
	}
}

/** The API and token endpoint in a child process, so the client's CPU time is its own. */
export async function startServers(): Promise<Servers> {
	const script = fileURLToPath(new URL('server.ts', import.meta.url));
	// On two or more cores, the servers get the last one and this process the first, so neither steals the other's CPU time or cache.
	const cores = availableParallelism();
	const isPinned = cores > 1 && hasTaskset();
	const child: ChildProcess = isPinned
		? spawn('taskset', ['-c', String(cores - 1), process.execPath, '--import=tsx', script], {stdio: ['inherit', 'inherit', 'inherit', 'ipc']})
		: fork(script, {execArgv: ['--import=tsx'], stdio: 'inherit'});
	if (isPinned) {
		execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], {stdio: 'ignore'});
	}

	const ask = async <Reply>(command: ServerCommand | undefined, replyType: string): Promise<Reply> => new Promise(resolve => {
		const onMessage = (message: {type: string}) => {
			if (message.type !== replyType) {
				return;
			}

			child.off('message', onMessage);
			resolve(message as Reply);
		};

		child.on('message', onMessage);
		if (command) {
			child.send(command);
		}
	});

	const {apiUrl, tokenEndpoint} = await ask<ServerReady>(undefined, 'ready');
	return {
		apiUrl,
		tokenEndpoint,
		async configure(options) {
			await ask({type: 'configure', ...options}, 'configured');
		},
		async revokeAll() {
			await ask({type: 'revokeAll'}, 'revoked');
		},
		async stats() {
			const {stats} = await ask<{stats: ServerStats}>({type: 'stats'}, 'stats');
			return stats;
		},
		close() {
			child.disconnect();
		},
	};
}

/** Run `total` calls with `concurrency` in flight at once. */
export async function runConcurrently(total: number, concurrency: number, call: (index: number) => Promise<unknown>): Promise<void> {
	let next = 0;
	const worker = async () => {
		while (next < total) {
			const index = next++;

			await call(index);
		}
	};

	await Promise.all(Array.from({length: concurrency}, worker));
}

export function percentile(sorted: readonly number[], fraction: number): number {
	return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

export function median(values: readonly number[]): number {
	return percentile(values.toSorted((a, b) => a - b), 0.5);
}

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

/** A small aligned table. */
export function printTable(title: string, header: string[], rows: Array<Array<string | number>>): void {
	const cells = [header, ...rows.map(row => row.map(String))];
	const widths = header.map((_, column) => Math.max(...cells.map(row => row[column]!.length)));
	console.log(`\n${title}`);
	for (const [index, row] of cells.entries()) {
		console.log('  ' + row.map((cell, column) => column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)).join('  '));
		if (index === 0) {
			console.log('  ' + widths.map(width => '-'.repeat(width)).join('  '));
		}
	}
}

export function printResult(name: string, result: Record<string, unknown>): void {
	console.log(JSON.stringify({benchmark: name, ...result}));
}
