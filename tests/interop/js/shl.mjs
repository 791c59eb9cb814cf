// The independent side of the SMART Health Links interop tests (tests/gateway/test_health_link_interop.py):
// npm kill-the-clipboard, unmodified. Reads one JSON request on stdin, writes one JSON answer on stdout.
//   {"do": "make", "bundle": {...}, "base": "https://…", "embeddedLengthMax": n, "flag": "P"?}
//     -> {"link": "shlink:/…", "manifest": {...}, "files": {"<url>": "<jwe>"}}
//   {"do": "read", "link": "shlink:/…", "manifest": {...}, "files": {...}, "recipient": "…"}
//     -> {"fhirResources": [...], "requests": [["POST", url, body], ["GET", url]]}
import { SHL, SHLManifestBuilder, SHLViewer } from "kill-the-clipboard";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));

async function make() {
  const shl = SHL.generate({ baseManifestURL: request.base, manifestPath: "/manifest.json", label: "Interop test", flag: request.flag });
  const stored = new Map();
  const builder = new SHLManifestBuilder({
    shl,
    uploadFile: async (content) => { const path = `file-${stored.size + 1}`; stored.set(path, content); return path; },
    getFileURL: async (path) => `${request.base}/files/${path}`,
    loadFile: async (path) => stored.get(path),
  });
  await builder.addFHIRResource({ content: request.bundle, enableCompression: true });
  const manifest = await builder.buildManifest({ embeddedLengthMax: request.embeddedLengthMax });
  const files = Object.fromEntries([...stored].map(([path, jwe]) => [`${request.base}/files/${path}`, jwe]));
  return { link: shl.toURI(), manifest, files };
}

async function read() {
  const requests = [];
  const fetch = async (url, init = {}) => {
    const method = init.method || "GET";
    requests.push(method === "POST" ? [method, url, JSON.parse(init.body)] : [method, url]);
    if (method === "POST") return Response.json(request.manifest);
    const body = request.files[url];
    return body === undefined ? new Response("", { status: 404 }) : new Response(body, { headers: { "content-type": "application/jose" } });
  };
  const viewer = new SHLViewer({ shlinkURI: request.link, fetch });
  const resolved = await viewer.resolveSHL({ recipient: request.recipient });
  return { fhirResources: resolved.fhirResources, requests };
}

const answer = request.do === "make" ? await make() : await read();
process.stdout.write(JSON.stringify(answer));
