import { newPayloadKeyJson, PayloadKeyError } from '../temporal-client/payload-encryption.ts';
import { localPayloadKeys, payloadKeysFile, rotateLocalPayloadKey } from '../local/payload-keys.ts';

// `npm run payload-keys -- list | rotate | new <id>`: the local key file, and a key for the AWS secret.
const USAGE = 'Usage: npm run payload-keys -- list | rotate | new <id>';
const dataDir = process.env.DATA_DIR?.trim() || '.data';
const [command, argument] = process.argv.slice(2);

try {
  if (command === 'list') {
    const keys = localPayloadKeys(process.env, dataDir);
    console.log(`${keys.map((key, index) => `${key.id}${index === 0 ? ' (encrypts)' : ''}`).join('\n')}`);
  } else if (command === 'rotate') {
    if (process.env.PAYLOAD_KEYS?.trim())
      throw new PayloadKeyError('PAYLOAD_KEYS is set: rotate that key set where it is kept (in AWS, the secret), not the local file.');
    localPayloadKeys(process.env, dataDir);
    const id = rotateLocalPayloadKey(dataDir);
    console.log(
      `Key ${id} now encrypts new payloads; the older keys in ${payloadKeysFile(dataDir)} still decode. Restart npm start to use it.`,
    );
  } else if (command === 'new' && argument) {
    // An entry to put first (after a deploy with it second) in the AWS secret's "keys".
    console.log(JSON.stringify(newPayloadKeyJson(argument)));
  } else {
    console.error(USAGE);
    process.exit(2);
  }
} catch (error) {
  if (!(error instanceof PayloadKeyError)) throw error;
  console.error(error.message);
  process.exit(1);
}
