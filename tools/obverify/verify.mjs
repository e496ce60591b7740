// An independent Open Badges 3.0 verifier: given only a credential (a VC-JWT), it finds everything
// else from what the credential says, over HTTP, as a stranger's verifier would:
//   1. the key: the JWT header's kid must be a URL; GET it for the public JWK; verify the signature
//      (jose, which also checks nbf and exp);
//   2. the issuer: issuer.id must be a URL serving the issuer's OB 3.0 Profile as JSON, with the same
//      id, and the key must be served by the issuer's host;
//   3. the achievement: its id must resolve to JSON describing the same Achievement;
//   4. the status: credentialStatus must be a BitstringStatusListEntry; its list credential is fetched
//      and verified the same way (kid URL), decoded, and the bit at statusListIndex read;
//   5. the credential validates against the 1EdTech OB 3.0 AchievementCredential JSON Schema (ajv).
// usage: node verify.mjs CREDENTIAL_FILE SCHEMA_FILE
// It prints one JSON line; it exits 1 with the reason when anything fails.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { decodeProtectedHeader, importJWK, jwtVerify } from "jose";
import Ajv2019 from "ajv/dist/2019.js";
import addFormats from "ajv-formats";

function fail(msg) {
  console.error("obverify: " + msg);
  process.exit(1);
}

async function get(url, want) {
  const r = await fetch(url, { headers: { accept: want } });
  if (!r.ok) fail(`GET ${url}: ${r.status}`);
  return r;
}

async function getJSON(url) {
  const r = await get(url, "application/json");
  const ct = r.headers.get("content-type") || "";
  if (!/json/.test(ct)) fail(`GET ${url}: content type ${ct}, not JSON`);
  return r.json();
}

async function verifyJWT(token) {
  const header = decodeProtectedHeader(token);
  if (typeof header.kid !== "string" || !/^https?:\/\//.test(header.kid)) fail(`kid ${header.kid} is not a URL`);
  const jwk = await getJSON(header.kid);
  const key = await importJWK(jwk, header.alg);
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: [header.alg] });
    return { header, payload };
  } catch (e) {
    fail(`signature of ${header.kid}: ${e.message}`);
  }
}

const [credFile, schemaFile] = process.argv.slice(2);
if (!credFile || !schemaFile) fail("usage: node verify.mjs CREDENTIAL_FILE SCHEMA_FILE");
const { header, payload: vc } = await verifyJWT(readFileSync(credFile, "utf8").trim());

const issuerID = typeof vc.issuer === "string" ? vc.issuer : vc.issuer?.id;
if (!/^https?:\/\//.test(issuerID || "")) fail(`issuer id ${issuerID} is not a URL`);
if (vc.iss !== issuerID) fail(`iss ${vc.iss} is not issuer.id ${issuerID}`);
const profile = await getJSON(issuerID);
if (profile.id !== issuerID || !(profile.type || []).includes("Profile")) fail(`issuer profile at ${issuerID}: ${JSON.stringify(profile)}`);
if (new URL(header.kid).origin !== new URL(issuerID).origin) fail(`key ${header.kid} is not served by the issuer's host`);

const ach = vc.credentialSubject?.achievement;
const achDoc = await getJSON(ach?.id);
if (achDoc.id !== ach.id || !(achDoc.type || []).includes("Achievement") || achDoc.name !== ach.name) fail(`achievement at ${ach.id}: ${JSON.stringify(achDoc)}`);

const ajv = new Ajv2019({ strict: false, allErrors: true });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, "utf8")));
if (!validate(vc)) fail("OB 3.0 schema: " + ajv.errorsText(validate.errors));

const st = vc.credentialStatus;
if (!st || st.type !== "BitstringStatusListEntry") fail(`credentialStatus ${JSON.stringify(st)}`);
const listJWT = await (await get(st.statusListCredential, "application/vc+jwt")).text();
const { payload: list } = await verifyJWT(listJWT.trim());
if (list.id !== st.statusListCredential || list.credentialSubject?.statusPurpose !== st.statusPurpose) fail(`status list ${list.id}`);
const enc = list.credentialSubject.encodedList;
if (!enc.startsWith("u")) fail("encodedList is not multibase base64url");
const bits = gunzipSync(Buffer.from(enc.slice(1), "base64url"));
const i = Number(st.statusListIndex);
const set = (bits[i >> 3] & (0x80 >> (i % 8))) !== 0;

console.log(JSON.stringify({ verified: true, issuer: issuerID, issuer_name: profile.name, kid: header.kid, achievement: achDoc.name,
  status: set ? (st.statusPurpose === "revocation" ? "revoked" : "suspended") : "clear", status_purpose: st.statusPurpose }));
