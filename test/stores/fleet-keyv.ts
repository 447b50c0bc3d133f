/*
The multi-process test of a Keyv store (keyv + @keyv/redis), which has no lock.
*/
import {keyvFleetTests} from '../helpers/fleet-tests.js';

keyvFleetTests();
