// Prints a fresh PASSAGE_KEK value: "<id>:<base64 of 32 random bytes>".
import { newKekSetting } from '../keyring.ts';

console.log(newKekSetting(process.argv[2]));
