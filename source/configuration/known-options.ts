import leven, {closestMatch} from 'leven';
import {ConfigurationError} from '../errors.js';

/**
A misspelt option (`clientSecert`) would otherwise be ignored in silence, and the request fail later for a reason that hides the typo.
*/
export function refuseUnknownOptions(options: Record<string, unknown>, known: readonly string[], prefix = ''): void {
	for (const name of Object.keys(options)) {
		if (known.includes(name)) {
			continue;
		}

		const closest = closestMatch(name, known);
		const isClose = closest !== undefined && leven(name.toLowerCase(), closest.toLowerCase()) <= Math.max(2, Math.floor(name.length / 4));
		throw new ConfigurationError(`${prefix}${name}`, `is not an option${isClose ? `; did you mean \`${closest}\`?` : ''}`);
	}
}
