/*
The multi-process tests (test/helpers/fleet-tests.ts) with the ioredis client in every process.
*/
import {fleetTests} from '../helpers/fleet-tests.js';

fleetTests('ioredis');
