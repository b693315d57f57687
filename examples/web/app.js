// luartc web demo: joins a room through the signaling server (docs/signaling.md),
// publishes camera and microphone when allowed, and keeps one RTCPeerConnection per
// other member (a mesh) with a "chat" data channel on each.
//
// Who offers: when someone joins, every member already in the room offers to the
// newcomer; the newcomer only answers. Peers whose info says data_only (bots) get
// connections without media.
"use strict";

const params = new URLSearchParams(location.search);
const roomName = params.get("room") || "demo";
const myName = params.get("name") || "guest-" + Math.random().toString(36).slice(2, 6);
const $ = (id) => document.getElementById(id);

const demo = window.demo = {
  id: null, room: roomName, name: myName, status: "connecting", closeCode: null,
  peers: new Map(),          // id -> { pc, dc, info, pending: [], video }
  chat: [],                  // { from, text }
  localStream: null, iceServers: [],
};

$("room").textContent = roomName;

function setStatus(text, error) {
  demo.status = text;
  $("status").textContent = text;
  $("status").classList.toggle("error", !!error);
}

function logLine(text, cls) {
  const li = document.createElement("li");
  li.textContent = text;
  if (cls) li.className = cls;
  $("log").appendChild(li);
  $("log").scrollTop = $("log").scrollHeight;
}

// ---- signaling ----
const wsUrl = new URL("ws", location.href);
wsUrl.protocol = location.protocol === "https:" ? "wss:" : "ws:";
wsUrl.searchParams.set("room", roomName);
if (params.get("token")) wsUrl.searchParams.set("token", params.get("token"));
if (params.get("peer")) wsUrl.searchParams.set("peer", params.get("peer"));
let ws;

function signal(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

async function start() {
  if (params.get("media") !== "0") {
    try {
      demo.localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
      $("local").srcObject = demo.localStream;
    } catch (e) {
      logLine("no camera/microphone (" + e.name + "): data only", "sys");
    }
  }
  wsUrl.searchParams.set("info", JSON.stringify({ name: myName, media: !!demo.localStream }));
  ws = new WebSocket(wsUrl);
  ws.onmessage = (ev) => onSignal(JSON.parse(ev.data));
  ws.onclose = (ev) => {
    demo.closeCode = ev.code;
    setStatus(demo.id ? `disconnected (${ev.code})` : `refused: ${ev.code} ${ev.reason}`, true);
  };
}

// Types only the server sends. It adds "from" to every message it relays, so one of
// these carrying "from" was forged by another member: a forged "leave" would tear
// down a live connection, forged "join"s would open a connection per ghost.
const SERVER_ONLY = new Set(["welcome", "join", "leave", "error", "pong"]);
demo.ignored = 0;

function onSignal(msg) {
  if (!msg || typeof msg.type !== "string") return;
  const fromServer = msg.from === undefined;
  if (SERVER_ONLY.has(msg.type) !== fromServer) {
    // a forged notice, or a relayed type without a sender
    demo.ignored++;
    console.warn("ignored signaling message", msg.type, msg.from);
    return;
  }
  switch (msg.type) {
  case "welcome":
    demo.id = msg.id;
    demo.iceServers = msg.ice_servers || [];
    $("me").textContent = `${myName} (${msg.id})`;
    setStatus(`joined, ${msg.peers.length} other(s) here`);
    for (const p of msg.peers) demo.peers.set(p.id, { info: p.info || {}, pending: [] });
    break;
  case "join":
    logLine(`${(msg.info && msg.info.name) || msg.id} joined`, "sys");
    connect(msg.id, msg.info || {}, true);
    break;
  case "leave":
    logLine(`${peerName(msg.id)} left`, "sys");
    drop(msg.id);
    break;
  case "offer": onOffer(msg); break;
  case "answer": {
    const p = demo.peers.get(msg.from);
    if (p && p.pc) p.pc.setRemoteDescription({ type: "answer", sdp: msg.sdp }).then(() => flushCandidates(p));
    break;
  }
  case "candidate": {
    const p = demo.peers.get(msg.from);
    if (!p || !p.pc) break;
    const c = { candidate: msg.candidate, sdpMid: msg.sdpMid, sdpMLineIndex: msg.sdpMLineIndex };
    if (p.pc.remoteDescription) p.pc.addIceCandidate(c).catch((e) => console.warn("candidate", e));
    else p.pending.push(c);
    break;
  }
  case "error":
    console.warn("signaling error", msg);
    break;
  }
}

function peerName(id) {
  const p = demo.peers.get(id);
  return (p && p.info && p.info.name) || id;
}

function flushCandidates(p) {
  for (const c of p.pending.splice(0)) p.pc.addIceCandidate(c).catch((e) => console.warn("candidate", e));
}

// ---- peer connections ----
function connect(id, info, offerer) {
  drop(id);
  const pc = new RTCPeerConnection({ iceServers: demo.iceServers });
  const p = { pc, info, pending: [], dc: null, video: null };
  demo.peers.set(id, p);
  pc.onicecandidate = (ev) => {
    if (ev.candidate) {
      signal({ type: "candidate", to: id, candidate: ev.candidate.candidate,
               sdpMid: ev.candidate.sdpMid, sdpMLineIndex: ev.candidate.sdpMLineIndex });
    }
  };
  pc.ontrack = (ev) => showVideo(id, ev.streams[0] || new MediaStream([ev.track]));
  pc.ondatachannel = (ev) => attachChannel(id, ev.channel);
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === "failed") logLine(`connection to ${peerName(id)} failed`, "sys");
  };
  if (demo.localStream && !info.data_only) {
    for (const t of demo.localStream.getTracks()) pc.addTrack(t, demo.localStream);
  }
  if (offerer) {
    attachChannel(id, pc.createDataChannel("chat"));
    pc.createOffer()
      .then((o) => pc.setLocalDescription(o))
      .then(() => signal({ type: "offer", to: id, sdp: pc.localDescription.sdp }))
      .catch((e) => logLine("offer failed: " + e, "sys"));
  }
  return p;
}

async function onOffer(msg) {
  const known = demo.peers.get(msg.from);
  const p = connect(msg.from, (known && known.info) || {}, false);
  try {
    await p.pc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
    flushCandidates(p);
    await p.pc.setLocalDescription(await p.pc.createAnswer());
    signal({ type: "answer", to: msg.from, sdp: p.pc.localDescription.sdp });
  } catch (e) {
    logLine("answer failed: " + e, "sys");
  }
}

function drop(id) {
  const p = demo.peers.get(id);
  if (!p) return;
  if (p.pc) p.pc.close();
  if (p.video) p.video.remove();
  demo.peers.delete(id);
}

function showVideo(id, stream) {
  const p = demo.peers.get(id);
  if (!p || p.video) { if (p && p.video) p.video.querySelector("video").srcObject = stream; return; }
  const fig = document.createElement("figure");
  fig.className = "tile";
  fig.dataset.peer = id;
  const v = document.createElement("video");
  v.autoplay = true;
  v.playsInline = true;
  v.srcObject = stream;
  const cap = document.createElement("figcaption");
  cap.textContent = peerName(id);
  fig.append(v, cap);
  $("videos").appendChild(fig);
  p.video = fig;
}

function attachChannel(id, dc) {
  const p = demo.peers.get(id);
  if (p) p.dc = dc;
  dc.onopen = () => logLine(`chat with ${peerName(id)} open`, "sys");
  dc.onmessage = (ev) => {
    let m;
    try { m = JSON.parse(ev.data); } catch (e) { m = { from: peerName(id), text: String(ev.data) }; }
    demo.chat.push({ from: m.from || peerName(id), text: m.text, peer: id });
    logLine(`${m.from || peerName(id)}: ${m.text}`);
  };
}

function sendChat(text) {
  const payload = JSON.stringify({ from: myName, text });
  let n = 0;
  for (const p of demo.peers.values()) {
    if (p.dc && p.dc.readyState === "open") { p.dc.send(payload); n++; }
  }
  demo.chat.push({ from: myName, text, self: true });
  logLine(`${myName}: ${text}`);
  return n;
}
demo.sendChat = sendChat;

$("chat").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = $("text").value.trim();
  if (text) sendChat(text);
  $("text").value = "";
});

// ---- stats panel ----
function fmtBytes(n) { return n > 1e6 ? (n / 1e6).toFixed(1) + " MB" : n > 1e3 ? (n / 1e3).toFixed(1) + " kB" : n + " B"; }

async function refreshStats() {
  const rows = [];
  demo.stats = {};
  for (const [id, p] of demo.peers) {
    if (!p.pc) continue;
    const s = { state: p.pc.connectionState, rtt: null, bytesIn: 0, bytesOut: 0, video: "" };
    const report = await p.pc.getStats();
    report.forEach((r) => {
      if (r.type === "candidate-pair" && r.nominated && r.state === "succeeded" && r.currentRoundTripTime !== undefined) {
        s.rtt = Math.round(r.currentRoundTripTime * 1000);
      }
      if (r.type === "transport") { s.bytesIn += r.bytesReceived || 0; s.bytesOut += r.bytesSent || 0; }
      if (r.type === "inbound-rtp" && r.kind === "video" && r.frameWidth) {
        s.video = `${r.frameWidth}x${r.frameHeight} ${Math.round(r.framesPerSecond || 0)}fps`;
        s.framesDecoded = r.framesDecoded;
      }
    });
    demo.stats[id] = s;
    rows.push(`<tr><td>${escapeHtml(peerName(id))}</td><td>${s.state}</td><td>${s.rtt === null ? "" : s.rtt + " ms"}</td>` +
              `<td>${fmtBytes(s.bytesIn)}</td><td>${fmtBytes(s.bytesOut)}</td><td>${s.video}</td></tr>`);
  }
  document.querySelector("#stats tbody").innerHTML = rows.join("");
}

function escapeHtml(s) { return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`); }

setInterval(() => refreshStats().catch((e) => console.warn("stats", e)), 1000);
start();
