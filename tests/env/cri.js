#!/usr/bin/env node
// cri.js: a small CRI v1 client (what crictl does, for the calls podsight's
// tests need). Debian ships neither crictl nor the CRI .proto file, but
// containerd registers the gzipped FileDescriptorProto of `runtime.v1` in its
// binary: we find it there, load it with protobufjs and call the
// RuntimeService/ImageService over containerd's socket with @grpc/grpc-js.
//
// Needs @grpc/grpc-js and protobufjs: tests/env/setup.sh installs them into
// $WORK/node_modules, which is searched besides NODE_PATH.
// Environment:
//   PODSIGHT_TESTENV the test environment's $WORK (default /tmp/podsight-testenv)
//   CRI_SOCK         endpoint (default unix:///run/containerd/containerd.sock)
//   CONTAINERD_BIN   binary to read the descriptor from (default /usr/bin/containerd)
//   CRI_DESC_CACHE   file caching the descriptor, refreshed when the binary is
//                    newer (default $WORK/cri-v1.desc when $WORK exists)
//   CRI_TIMEOUT      seconds per call (default 60)
// Request files are the CRI messages in JSON, with the .proto field names
// (snake_case); unknown fields and enum values are errors, not silently dropped.
'use strict';
const fs = require('fs');
const zlib = require('zlib');

const WORK = process.env.PODSIGHT_TESTENV || '/tmp/podsight-testenv';
module.paths.push(`${WORK}/node_modules`);
let grpc, pb, pbdesc;
try {
	grpc = require('@grpc/grpc-js');
	pb = require('protobufjs');
	pbdesc = require('protobufjs/ext/descriptor');
} catch (e) {
	console.error(`cri.js: ${e.message.split('\n')[0]}: run tests/env/setup.sh or set NODE_PATH`);
	process.exit(1);
}

const SOCK = process.env.CRI_SOCK || 'unix:///run/containerd/containerd.sock';
const BIN = process.env.CONTAINERD_BIN || '/usr/bin/containerd';
const CACHE = process.env.CRI_DESC_CACHE ||
	(fs.existsSync(WORK) ? `${WORK}/cri-v1.desc` : '');
const TIMEOUT_S = Number(process.env.CRI_TIMEOUT || 60);

// Go's gzip writer: magic, deflate, no flags, mtime 0, xfl 0.
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
// FileDescriptorProto field 2 (package), length 10, "runtime.v1".
const PACKAGE_TAG = Buffer.concat([Buffer.from([0x12, 10]), Buffer.from('runtime.v1')]);

function readDescriptor() {
	const binStat = fs.statSync(BIN);
	if (CACHE) {
		try {
			const st = fs.statSync(CACHE);
			// ctime, not mtime: dpkg keeps the package's mtime on upgrades.
			if (st.size > 0 && st.mtimeMs >= binStat.ctimeMs) return fs.readFileSync(CACHE);
		} catch (e) { /* no cache yet */ }
	}
	const bin = fs.readFileSync(BIN);
	for (let i = bin.indexOf(GZIP_MAGIC); i >= 0; i = bin.indexOf(GZIP_MAGIC, i + 1)) {
		let fdp;
		try {
			// The member's length is unknown: inflate a bounded window and
			// accept a truncated end (sync flush).
			fdp = zlib.gunzipSync(bin.subarray(i, i + (1 << 20)),
				{finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: 8 << 20});
		} catch (e) {
			continue;
		}
		if (fdp[0] === 0x0a && fdp.subarray(0, 512).indexOf(PACKAGE_TAG) >= 0 &&
		    fdp.indexOf('RuntimeService') > 0) {
			if (CACHE) {  // atomically: other runs may read it meanwhile
				fs.writeFileSync(`${CACHE}.${process.pid}`, fdp);
				fs.renameSync(`${CACHE}.${process.pid}`, CACHE);
			}
			return fdp;
		}
	}
	throw new Error(`no CRI runtime.v1 descriptor in ${BIN}`);
}

function loadRoot() {
	const file = pbdesc.FileDescriptorProto.decode(readDescriptor());
	const root = pb.Root.fromDescriptor({file: [file]});
	// fromDescriptor() turns map<K,V> fields into repeated *Entry messages;
	// make them maps again so JSON objects like "labels" are accepted.
	(function fixMaps(ns) {
		for (const o of ns.nestedArray) {
			if (o instanceof pb.Type) {
				for (const f of o.fieldsArray.slice()) {
					const e = o.nested && o.nested[f.type.split('.').pop()];
					if (f.repeated && e instanceof pb.Type && e.options && e.options.map_entry) {
						o.remove(f);
						o.remove(e);
						o.add(new pb.MapField(f.name, f.id, e.fields.key.type, e.fields.value.type));
					}
				}
			}
			if (o.nestedArray) fixMaps(o);
		}
	})(root);
	return root.resolveAll();
}

// Rejects keys and enum names the message type does not have.
function check(type, obj, where) {
	if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
		throw new Error(`${where || type.name}: object expected`);
	for (const [k, v] of Object.entries(obj)) {
		const f = type.fields[k], at = where ? `${where}.${k}` : k;
		if (!f) throw new Error(`unknown field '${at}' (message ${type.fullName.slice(1)})`);
		const values = f.map ? Object.values(v || {}) : f.repeated ? (v || []) : [v];
		for (const x of values) {
			if (f.resolvedType instanceof pb.Type) check(f.resolvedType, x, at);
			else if (f.resolvedType instanceof pb.Enum && typeof x === 'string' &&
				 !(x in f.resolvedType.values))
				throw new Error(`'${at}': no value '${x}' in enum ${f.resolvedType.name}`);
		}
	}
}

let root = null, client = null;  // set up by main()

function call(service, method, req, timeoutS = TIMEOUT_S) {
	const m = root.lookupService(`runtime.v1.${service}`).methods[method];
	const In = m.resolvedRequestType, Out = m.resolvedResponseType;
	check(In, req, '');
	const enc = o => Buffer.from(In.encode(In.fromObject(o)).finish());
	const dec = b => Out.toObject(Out.decode(b),
		{longs: String, enums: String, bytes: String, defaults: true});
	return new Promise((resolve, reject) => client.makeUnaryRequest(
		`/runtime.v1.${service}/${method}`, enc, dec, req, new grpc.Metadata(),
		{deadline: Date.now() + timeoutS * 1000},
		(err, res) => err ? reject(Object.assign(err, {method})) : resolve(res)));
}
const rt = (m, req, t) => call('RuntimeService', m, req, t);
const img = (m, req) => call('ImageService', m, req);

const readJson = f => JSON.parse(fs.readFileSync(f, 'utf8'));
const print = o => console.log(JSON.stringify(o, null, 1));
const NOT_FOUND = grpc.status.NOT_FOUND;

// Stops and removes containers, then pod sandboxes. With a prefix, only pods
// whose name or namespace starts with it, and the containers in them.
async function clean(prefix) {
	const pods = (await rt('ListPodSandbox', {})).items.filter(p => !prefix ||
		p.metadata.name.startsWith(prefix) || p.metadata.namespace.startsWith(prefix));
	const ids = new Set(pods.map(p => p.id));
	const ctrs = (await rt('ListContainers', {})).containers.filter(c => !prefix ||
		ids.has(c.pod_sandbox_id));
	for (const c of ctrs) {
		await rt('StopContainer', {container_id: c.id, timeout: 0});
		await rt('RemoveContainer', {container_id: c.id});
	}
	for (const p of pods) {
		await rt('StopPodSandbox', {pod_sandbox_id: p.id});
		await rt('RemovePodSandbox', {pod_sandbox_id: p.id});
	}
	console.log(`removed ${ctrs.length} containers, ${pods.length} pods`);
}

// Compact state of a container, or of a pod sandbox when no container has ID.
async function status(id) {
	try {
		const s = (await rt('ContainerStatus', {container_id: id})).status;
		return {kind: 'container', id: s.id, name: s.metadata.name, state: s.state,
			exit_code: s.exit_code, reason: s.reason, created_at: s.created_at,
			started_at: s.started_at, finished_at: s.finished_at};
	} catch (e) {
		if (e.code !== NOT_FOUND) throw e;
	}
	const s = (await rt('PodSandboxStatus', {pod_sandbox_id: id})).status;
	return {kind: 'pod', id: s.id, name: s.metadata.name, namespace: s.metadata.namespace,
		uid: s.metadata.uid, state: s.state, ip: s.network ? s.network.ip : '',
		created_at: s.created_at};
}

const USAGE = `usage: cri.js COMMAND [ARGS]
  version | info [-v] | images
  runp POD.json [HANDLER]              RunPodSandbox, prints the pod id
  create POD_ID CTR.json POD.json      CreateContainer, prints the container id
  start ID | run POD_ID CTR.json POD.json (create + start)
  exec|execsync [--timeout S] ID CMD.. ExecSync (default 30 s); exits with CMD's
                                       status, 124 when CMD ran out of time
  pods [-q] | ps [-q]                  list (-q: ids only)
  status ID                            compact state of a container or pod
  inspect ID | inspectp ID             full verbose status
  stop ID [TIMEOUT] | rm ID | stopp POD_ID | rmp POD_ID
  clean [PREFIX]                       stop and remove all (or PREFIX*) pods and containers`;

async function main(cmd, a) {
	root = loadRoot();
	client = new grpc.Client(SOCK, grpc.credentials.createInsecure());
	switch (cmd) {
	case 'version': print(await rt('Version', {version: 'v1'})); break;
	case 'info': print(await rt('Status', {verbose: a[0] === '-v'})); break;
	case 'images': print(await img('ListImages', {})); break;
	case 'runp':
		console.log((await rt('RunPodSandbox',
			{config: readJson(a[0]), runtime_handler: a[1] || ''})).pod_sandbox_id);
		break;
	case 'create':
	case 'run': {
		const id = (await rt('CreateContainer', {pod_sandbox_id: a[0],
			config: readJson(a[1]), sandbox_config: readJson(a[2])})).container_id;
		if (cmd === 'run') await rt('StartContainer', {container_id: id});
		console.log(id);
		break;
	}
	case 'start': await rt('StartContainer', {container_id: a[0]}); console.log(a[0]); break;
	case 'exec':
	case 'execsync': {
		let t = 30;
		if (a[0] === '--timeout') { t = Number(a[1]); a = a.slice(2); }
		if (!(t > 0) || a.length < 2) throw new Error('exec: need --timeout S>0, ID and a command');
		// The runtime kills CMD after t seconds and fails the call with
		// DEADLINE_EXCEEDED; the call's own deadline is a little later.
		let r;
		try {
			r = await rt('ExecSync', {container_id: a[0], cmd: a.slice(1), timeout: t}, t + 10);
		} catch (e) {
			if (e.code !== grpc.status.DEADLINE_EXCEEDED) throw e;
			console.error(`cri.js: exec: '${a.slice(1).join(' ')}' killed after ${t} s`);
			process.exitCode = 124;  // as timeout(1)
			break;
		}
		process.stdout.write(Buffer.from(r.stdout, 'base64'));
		process.stderr.write(Buffer.from(r.stderr, 'base64'));
		process.exitCode = r.exit_code;
		break;
	}
	case 'pods': {
		const items = (await rt('ListPodSandbox', {})).items;
		if (a[0] === '-q') items.forEach(p => console.log(p.id)); else print(items);
		break;
	}
	case 'ps': {
		const items = (await rt('ListContainers', {})).containers;
		if (a[0] === '-q') items.forEach(c => console.log(c.id)); else print(items);
		break;
	}
	case 'status': print(await status(a[0])); break;
	case 'inspect': print(await rt('ContainerStatus', {container_id: a[0], verbose: true})); break;
	case 'inspectp': print(await rt('PodSandboxStatus', {pod_sandbox_id: a[0], verbose: true})); break;
	case 'stop': await rt('StopContainer', {container_id: a[0], timeout: Number(a[1] || 5)}); break;
	case 'rm': await rt('RemoveContainer', {container_id: a[0]}); break;
	case 'stopp': await rt('StopPodSandbox', {pod_sandbox_id: a[0]}); break;
	case 'rmp': await rt('RemovePodSandbox', {pod_sandbox_id: a[0]}); break;
	case 'clean': await clean(a[0] || ''); break;
	default:
		console.error(USAGE);
		process.exitCode = 2;
	}
}

const [cmd, ...args] = process.argv.slice(2);
// Fail at once rather than after a connection timeout.
const sockPath = SOCK.replace(/^unix:\/\//, '');
if (SOCK.startsWith('unix://') && !fs.existsSync(sockPath)) {
	console.error(`cri.js: no socket at ${sockPath} (is containerd running?)`);
	process.exit(1);
}
main(cmd, args)
	.catch(e => {
		// gRPC errors: "cri.js: Method: STATUS_NAME: details"
		const where = e.method ? `${e.method}: ${grpc.status[e.code]}: ` : '';
		console.error(`cri.js: ${where}${e.details || e.message}`);
		process.exitCode = 1;
	})
	.finally(() => client && client.close());
