/*
 * simdws load generator: one epoll thread, raw sockets, its own client handshake.
 *
 * It must never be what limits a benchmark, so the work per message is a few compares and an iovec:
 * every client frame is built and masked before the run starts (RFC 6455 section 5.3: a client masks
 * every frame, each with its own key; the pool uses a different random key per frame), messages are
 * counted from the frame headers it parses itself (section 5.2), and every echoed payload is compared
 * with what was sent. It reports its own CPU use and the server's (from /proc) over the measured
 * window, so every result says whether the server or the generator was the limit.
 *
 * Modes (--mode):
 *   echo       closed loop: --conns connections, --inflight messages outstanding on each.
 *   broadcast  --conns subscribers on /sub and one publisher on /pub; the publisher keeps --window
 *              messages in flight, a message being done once every subscriber has it.
 *   latency    open loop at --rate messages/s over --conns connections; round-trip histogram.
 *   handshake  connect, upgrade, close handshake, repeat; --concurrency cycles at a time.
 *   idle       opens --conns upgraded connections, prints a "ready" line, holds them until a line
 *              (or EOF) arrives on stdin, then closes them.
 *   flood      --concurrency connections at a time, each sending an upgrade request the server must
 *              refuse (--flood bad-key: 400, --flood bad-origin: 403) and counting the answers by
 *              status; see "flood mode" below.
 * Payloads (--json): deterministic market-data ticks, JSON text, instead of random letters or bytes.
 * Compression (--deflate, echo mode): the handshake offers permessage-deflate with a bare
 * client_max_window_bits, as browsers do (RFC 7692 section 7.1.2.2), and the response's parameters are
 * checked (section 7.1). Each pooled message is compressed on its own before the run, as raw deflate
 * ending in a sync flush whose trailing 00 00 FF FF is dropped (section 7.2.1), within the window the
 * server allowed; compressing every message independently is open to any client (section 7.2.1). Every
 * reply is inflated by a per-connection raw inflate stream sized to server_max_window_bits and reset
 * after each message when server_no_context_takeover was agreed (section 7.2.2), so a server that breaks
 * what it agreed fails the run; the inflated payload is compared with what was sent.
 * Origin (--origin): every opening handshake carries this Origin header, as a browser page's would, so
 * servers with an Origin allow-list (RFC 6455 section 10.2) accept the generator's connections.
 * Every mode counts the frame bytes (headers included) each way over the measured window.
 * One JSON object is printed on stdout at the end; a broken server or protocol error is fatal:
 * the message goes to stderr and the exit status is 2.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

enum mode { MODE_ECHO, MODE_BROADCAST, MODE_LATENCY, MODE_HANDSHAKE, MODE_IDLE, MODE_FLOOD };
/* C_ASKED and C_BODY are the flood's: a request sent and its answer's head awaited; the body being read. */
enum state { C_FREE, C_CONNECTING, C_UPGRADING, C_OPEN, C_CLOSING, C_AWAIT_EOF, C_ASKED, C_BODY };
enum flood_fault { FLOOD_NONE, FLOOD_BAD_KEY, FLOOD_BAD_ORIGIN };
enum role { ROLE_ECHO, ROLE_PUBLISHER, ROLE_SUBSCRIBER };
enum phase { PH_CONNECTING, PH_WARMUP, PH_MEASURE, PH_DRAIN, PH_DONE };

#define OP_CONTINUATION 0x0
#define OP_TEXT 0x1
#define OP_BINARY 0x2
#define OP_CLOSE 0x8
#define OP_PING 0x9
#define OP_PONG 0xA
/* First header byte: RSV1 marks a compressed message's first frame (RFC 7692 section 6). */
#define FLAG_RSV1 0x40

#define KEY_POOL 256
#define HANDSHAKE_KEYS 64
#define MAX_POOL_FRAMES 256
#define POOL_BYTES_BUDGET (16u << 20)
#define SCRATCH_BYTES (4u << 20)
#define READ_MAX (1u << 20)
#define MAX_RESPONSE_HEAD 8192
#define BROADCAST_RING 4096
#define LATENCY_HEAD 16 /* payload bytes 0-7: intended send time (ns), 8-15: sequence number */
#define DRAIN_LIMIT_NS 3000000000ull
#define EV_STDIN UINT32_MAX
#define EV_TIMER (UINT32_MAX - 1)

/* Log-linear histogram: exact below 128 ns, then 64 buckets per power of two (1.6% wide). */
#define HIST_SUB 64
#define HIST_BUCKETS (2 * HIST_SUB + 40 * HIST_SUB)

struct options {
  enum mode mode;
  int port;
  const char *path;
  int conns;
  int inflight;
  size_t size;
  int text;
  double warmup_s;
  double duration_s;
  int sources;
  int server_pid;
  int server_core;
  int gen_core;
  double rate;
  int window;
  int concurrency;
  uint64_t seed;
  int json;
  int deflate;
  const char *origin;
  enum flood_fault flood;
  int nice;
};

/* What one connection's handshake agreed (RFC 7692 section 7.1); bits are 8-15, 15 when absent. */
struct deflate_params {
  int server_no_context_takeover;
  int client_no_context_takeover;
  int server_max_window_bits;
  int client_max_window_bits;
};

/* The pooled messages compressed within one client window size, each as a masked RSV1 frame. */
struct deflate_pool {
  uint8_t *frames;
  size_t *offset;
  size_t *length;
};

struct conn {
  int fd;
  uint32_t id;
  enum state state;
  enum role role;
  int key_index;
  int want_out;
  uint8_t *left;
  size_t left_len, left_cap;
  uint8_t *pend;
  size_t pend_len, pend_off, pend_cap;
  uint64_t sent, received;
  uint64_t msg_offset; /* payload bytes of the current (possibly fragmented) message so far */
  int msg_opcode;
  uint64_t next_seq;
  struct deflate_params deflate; /* valid once the upgrade succeeded with --deflate */
  const struct deflate_pool *deflate_pool;
  z_stream *inflater;
  int msg_compressed;
  /* flood mode: when the connection last moved on (opened, asked, answered), the status of the answer
     being read, its body bytes still to come, and whether the server closes after it */
  uint64_t flood_since;
  int flood_status;
  size_t flood_body_left;
  int flood_server_closes;
};

static struct options opt = {
    .mode = MODE_ECHO, .port = 0, .path = "/", .conns = 100, .inflight = 16, .size = 32, .text = 0,
    .warmup_s = 1, .duration_s = 5, .sources = 8, .server_pid = 0, .server_core = -1, .gen_core = -1, .rate = 20000, .window = 16,
    .concurrency = 64, .seed = 0x5eed, .json = 0, .deflate = 0, .origin = NULL, .flood = FLOOD_NONE, .nice = 0,
};

static int ep = -1;
static struct conn *conns;
static int nconns;
static uint8_t *scratch;
static uint64_t rng_state;

static uint8_t *pool_frames; /* masked client frames, pool_count of them, frame_len bytes each */
static uint8_t *pool_plain;  /* their payloads unmasked, opt.size bytes each */
static size_t frame_len, header_len;
static int pool_count;
static uint8_t keys[KEY_POOL][4];
static char hs_key[HANDSHAKE_KEYS][32];
static char hs_accept[HANDSHAKE_KEYS][32];
static char request[3][HANDSHAKE_KEYS][512]; /* per role: echo, publisher, subscriber */
static size_t request_len[3][HANDSHAKE_KEYS];

static enum phase phase = PH_CONNECTING;
static int opened, started;
static uint64_t t_start, t_measure, t_end;
static uint64_t messages, payload_bytes, handshakes;
static uint64_t messages_at_start, bytes_at_start, handshakes_at_start;
static uint64_t gen_cpu_at_start, server_ticks_at_start;
static double gen_cpu, server_cpu = -1;

/* Jiffies of one core from /proc/stat: busy counts softirq, where loopback TCP does much of its work
   without charging it to either process; steal is time the hypervisor gave to another guest. */
struct core_times {
  uint64_t busy, steal, total;
};
static struct core_times server_core_at_start, gen_core_at_start;
static double server_core_busy = -1, server_core_steal = -1, gen_core_busy = -1;
static double measured_seconds;
/* The measured window on the wall clock (ms since the epoch), so runs of two generators can be lined up. */
static double window_start_unix_ms, window_end_unix_ms;

static uint64_t pub_sent, pub_done;
static uint32_t broadcast_count[BROADCAST_RING];
static int subscribers;

/* Frame bytes written and parsed after the upgrade (RFC 6455 section 5.2 framing, headers included). */
static uint64_t wire_out, wire_in, wire_out_at_start, wire_in_at_start;
static uint64_t compressed_replies, compressed_replies_at_start;
static struct deflate_pool deflate_pools[16]; /* by the client window bits the pool respects */
static uint8_t *inflated;                     /* one reply frame's inflated bytes, opt.size + 1 */
static struct deflate_params reported_deflate;
static int deflate_reported;

static int timer_fd = -1;
static uint64_t lat_sent, lat_received, lat_next_conn, lat_max_lag;
static uint64_t lat_sent_at_start, lat_sent_at_end, lat_measured;
static uint64_t histogram[HIST_BUCKETS];
static uint64_t drain_deadline;
static int stdin_closed;

/* Flood mode: the one request every connection sends, the answers by status (every one of the run,
   warmup included, since any wrong answer is a failure), and what went wrong instead of an answer. */
#define FLOOD_STATUS_LIMIT 600
static char flood_request[1024];
static size_t flood_request_len;
static uint64_t flood_statuses[FLOOD_STATUS_LIMIT];
static uint64_t flood_answers, flood_connections, flood_closed_early, flood_timeouts;
static uint64_t flood_answers_at_start, flood_connections_at_start;
static uint64_t flood_next_expiry_check;

static void fatal(const char *format, ...) {
  va_list args;
  va_start(args, format);
  fputs("loadgen: ", stderr);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
  exit(2);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double unix_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static uint64_t cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* utime + stime of every thread of the server (fields 14 and 15 of /proc/PID/stat), in ticks. */
static int64_t server_ticks(void) {
  if (opt.server_pid <= 0) return -1;
  char path[64], buffer[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", opt.server_pid);
  FILE *file = fopen(path, "r");
  if (file == NULL) return -1;
  size_t n = fread(buffer, 1, sizeof buffer - 1, file);
  fclose(file);
  buffer[n] = 0;
  /* The command name may hold spaces and parentheses: fields are counted after the last ')'. */
  char *cursor = strrchr(buffer, ')');
  if (cursor == NULL) return -1;
  unsigned long utime = 0, stime = 0;
  if (sscanf(cursor + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2) return -1;
  return (int64_t)(utime + stime);
}

static struct core_times core_times(int core) {
  struct core_times times = {0, 0, 0};
  if (core < 0) return times;
  FILE *file = fopen("/proc/stat", "r");
  if (file == NULL) return times;
  char line[512], name[16];
  snprintf(name, sizeof name, "cpu%d ", core);
  while (fgets(line, sizeof line, file) != NULL) {
    if (strncmp(line, name, strlen(name)) != 0) continue;
    unsigned long long v[8] = {0};
    /* user nice system idle iowait irq softirq steal */
    sscanf(line + strlen(name), "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
           &v[6], &v[7]);
    times.busy = v[0] + v[1] + v[2] + v[5] + v[6];
    times.steal = v[7];
    times.total = times.busy + v[3] + v[4] + v[7];
    break;
  }
  fclose(file);
  return times;
}

static double core_share(struct core_times from, struct core_times to, int steal) {
  if (to.total <= from.total) return -1;
  uint64_t part = steal ? to.steal - from.steal : to.busy - from.busy;
  return (double)part / (double)(to.total - from.total);
}

static uint64_t next_random(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}

/* ---- SHA-1 (FIPS 180-4) and base64, for Sec-WebSocket-Accept (RFC 6455 section 4.2.2) ---- */

static uint32_t rotl(uint32_t value, int bits) { return (value << bits) | (value >> (32 - bits)); }

static void sha1_block(uint32_t h[5], const uint8_t *block) {
  uint32_t w[80];
  for (int t = 0; t < 16; t++) {
    w[t] = (uint32_t)block[4 * t] << 24 | (uint32_t)block[4 * t + 1] << 16 | (uint32_t)block[4 * t + 2] << 8 |
           block[4 * t + 3];
  }
  for (int t = 16; t < 80; t++) w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int t = 0; t < 80; t++) {
    uint32_t f, k;
    if (t < 20) {
      f = (b & c) | (~b & d);
      k = 0x5A827999;
    } else if (t < 40) {
      f = b ^ c ^ d;
      k = 0x6ED9EBA1;
    } else if (t < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8F1BBCDC;
    } else {
      f = b ^ c ^ d;
      k = 0xCA62C1D6;
    }
    uint32_t next = rotl(a, 5) + f + e + k + w[t];
    e = d;
    d = c;
    c = rotl(b, 30);
    b = a;
    a = next;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
}

static void sha1(const uint8_t *data, size_t len, uint8_t digest[20]) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  uint8_t message[192];
  size_t padded = (len + 9 + 63) / 64 * 64;
  if (padded > sizeof message) fatal("sha1 input too long");
  memset(message, 0, padded);
  memcpy(message, data, len);
  message[len] = 0x80;
  uint64_t bits = (uint64_t)len * 8;
  for (int i = 0; i < 8; i++) message[padded - 1 - i] = (uint8_t)(bits >> (8 * i));
  for (size_t offset = 0; offset < padded; offset += 64) sha1_block(h, message + offset);
  for (int i = 0; i < 5; i++) {
    digest[4 * i] = (uint8_t)(h[i] >> 24);
    digest[4 * i + 1] = (uint8_t)(h[i] >> 16);
    digest[4 * i + 2] = (uint8_t)(h[i] >> 8);
    digest[4 * i + 3] = (uint8_t)h[i];
  }
}

static void base64(const uint8_t *data, size_t len, char *out) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < len; i += 3) {
    uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < len ? (uint32_t)data[i + 1] << 8 : 0) | (i + 2 < len ? data[i + 2] : 0);
    out[o++] = alphabet[(v >> 18) & 63];
    out[o++] = alphabet[(v >> 12) & 63];
    out[o++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
  }
  out[o] = 0;
}

static const char *role_path(enum role role) {
  if (role == ROLE_PUBLISHER) return "/pub";
  if (role == ROLE_SUBSCRIBER) return "/sub";
  return opt.path;
}

static void prepare_handshakes(void) {
  static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  for (int i = 0; i < HANDSHAKE_KEYS; i++) {
    uint8_t nonce[16], digest[20], input[64];
    for (int j = 0; j < 16; j++) nonce[j] = (uint8_t)next_random();
    base64(nonce, 16, hs_key[i]);
    size_t key_len = strlen(hs_key[i]);
    memcpy(input, hs_key[i], key_len);
    memcpy(input + key_len, guid, sizeof guid - 1);
    sha1(input, key_len + sizeof guid - 1, digest);
    base64(digest, 20, hs_accept[i]);
  }
}

/* The opening handshake request of RFC 6455 section 4.1, for one of the pooled keys. With --deflate it
   carries the offer browsers send: permessage-deflate, ready to honour a client_max_window_bits the
   server picks (RFC 7692 section 7.1.2.2). With --origin it carries the Origin a browser page would
   (section 4.1 item 8), for servers that keep an Origin allow-list (section 10.2). */
static size_t write_request(char *out, size_t cap, enum role role, int key) {
  char origin[300] = "";
  if (opt.origin != NULL) snprintf(origin, sizeof origin, "Origin: %s\r\n", opt.origin);
  int n = snprintf(out, cap,
                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s%s\r\n",
                   role_path(role), opt.port, hs_key[key], origin,
                   opt.deflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "");
  if (n < 0 || (size_t)n >= cap) fatal("request too long");
  return (size_t)n;
}

/* ---- frames ---- */

static size_t frame_header_len(size_t len) { return len < 126 ? 2 : len < 65536 ? 4 : 10; }

/* A masked client frame (RFC 6455 sections 5.2 and 5.3): header, key, payload XOR key. */
static size_t build_frame(uint8_t *out, int opcode, const uint8_t *payload, size_t len, const uint8_t key[4]) {
  size_t h = 0;
  out[h++] = (uint8_t)(0x80 | opcode);
  if (len < 126) {
    out[h++] = (uint8_t)(0x80 | len);
  } else if (len < 65536) {
    out[h++] = 0x80 | 126;
    out[h++] = (uint8_t)(len >> 8);
    out[h++] = (uint8_t)len;
  } else {
    out[h++] = 0x80 | 127;
    for (int i = 7; i >= 0; i--) out[h++] = (uint8_t)((uint64_t)len >> (8 * i));
  }
  memcpy(out + h, key, 4);
  h += 4;
  for (size_t i = 0; i < len; i++) out[h + i] = payload[i] ^ key[i & 3];
  return h + len;
}

static const char *const TICKERS[] = {"AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "AVGO", "JPM", "V",
                                      "XOM",  "UNH",  "MA",   "JNJ",  "PG",    "HD",   "COST", "ABBV", "MRK", "KO"};
#define TICKER_COUNT (sizeof TICKERS / sizeof TICKERS[0])

/* A quote-update batch as market-data feeds send them: the same keys in every tick, prices near their
   last value, sizes in round lots. Exactly `len` bytes of valid JSON (RFC 8259), padded with the
   insignificant whitespace the format allows; compresses about 3-4x with deflate's defaults. */
static void fill_json(uint8_t *out, size_t len) {
  static double last[TICKER_COUNT];
  static uint64_t volume[TICKER_COUNT];
  static uint64_t seq, clock_ms = 1763800000000ull;
  if (last[0] == 0) {
    for (size_t i = 0; i < TICKER_COUNT; i++) {
      last[i] = 20 + (double)(next_random() % 90000) / 100;
      volume[i] = 100000 + next_random() % 90000000;
    }
  }
  const size_t close_len = 2; /* "]}" */
  char head[128];
  size_t used = (size_t)snprintf(head, sizeof head, "{\"type\":\"quotes\",\"venue\":\"XNAS\",\"seq\":%llu,\"ticks\":[",
                                 (unsigned long long)++seq);
  if (used + close_len > len) fatal("--json needs --size of at least %zu", used + close_len);
  memcpy(out, head, used);
  for (int n = 0;; n++) {
    size_t t = (size_t)(next_random() % TICKER_COUNT);
    last[t] += ((double)(next_random() % 41) - 20) / 100;
    if (last[t] < 1) last[t] = 1;
    double bid = last[t], spread = (double)(1 + next_random() % 4) / 100;
    unsigned trade = (unsigned)(1 + next_random() % 20) * 100;
    volume[t] += trade;
    clock_ms += next_random() % 7;
    char tick[256];
    int tick_len = snprintf(tick, sizeof tick,
                            "%s{\"sym\":\"%s\",\"bid\":%.2f,\"ask\":%.2f,\"bidSize\":%u,\"askSize\":%u,\"last\":%.2f,"
                            "\"lastSize\":%u,\"volume\":%llu,\"ts\":%llu,\"cond\":\"%c\",\"exchange\":\"XNAS\",\"currency\":\"USD\","
                            "\"session\":\"regular\"}",
                            n == 0 ? "" : ",", TICKERS[t], bid, bid + spread, (unsigned)(1 + next_random() % 20) * 100,
                            (unsigned)(1 + next_random() % 20) * 100, bid + spread / 2, trade,
                            (unsigned long long)volume[t], (unsigned long long)clock_ms, "@@@FTI"[next_random() % 6]);
    if (used + (size_t)tick_len + close_len > len) break;
    memcpy(out + used, tick, (size_t)tick_len);
    used += (size_t)tick_len;
  }
  memset(out + used, ' ', len - used - close_len);
  memcpy(out + len - close_len, "]}", close_len);
}

static void fill_payload(uint8_t *out, size_t len) {
  if (opt.json) {
    fill_json(out, len);
    return;
  }
  for (size_t i = 0; i < len; i++) {
    uint8_t byte = (uint8_t)next_random();
    /* Text payloads stay ASCII so they are valid UTF-8 (RFC 6455 section 8.1). */
    out[i] = opt.text ? (uint8_t)('a' + byte % 26) : byte;
  }
}

static void prepare_pool(void) {
  for (int i = 0; i < KEY_POOL; i++) {
    uint64_t value = next_random();
    memcpy(keys[i], &value, 4);
  }
  header_len = frame_header_len(opt.size) + 4;
  frame_len = header_len + opt.size;
  pool_count = (int)(POOL_BYTES_BUDGET / (frame_len + opt.size));
  if (pool_count > MAX_POOL_FRAMES) pool_count = MAX_POOL_FRAMES;
  if (pool_count < 2) pool_count = 2;
  pool_frames = malloc((size_t)pool_count * frame_len);
  pool_plain = malloc((size_t)pool_count * opt.size + 1);
  if (pool_frames == NULL || pool_plain == NULL) fatal("out of memory for the frame pool");
  for (int i = 0; i < pool_count; i++) {
    uint8_t *plain = pool_plain + (size_t)i * opt.size;
    fill_payload(plain, opt.size);
    build_frame(pool_frames + (size_t)i * frame_len, opt.text ? OP_TEXT : OP_BINARY, plain, opt.size, keys[i % KEY_POOL]);
  }
}

/* The pool as compressed frames within a client window of 2^bits (RFC 7692 section 7.1.2.2), built the
   first time a server asks for that window: each message compressed on its own (section 7.2.1). zlib
   takes 9 as its least raw window; its matches then reach back at most 250 bytes, within 2^8 too. */
static const struct deflate_pool *deflate_pool_for(int bits) {
  struct deflate_pool *pool = &deflate_pools[bits];
  if (pool->frames != NULL) return pool;
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -(bits < 9 ? 9 : bits), 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    fatal("deflateInit2 failed");
  }
  size_t bound = deflateBound(&z, opt.size) + 16;
  uint8_t *compressed = malloc(bound);
  pool->frames = malloc((size_t)pool_count * (bound + 14));
  pool->offset = malloc((size_t)pool_count * sizeof *pool->offset);
  pool->length = malloc((size_t)pool_count * sizeof *pool->length);
  if (compressed == NULL || pool->frames == NULL || pool->offset == NULL || pool->length == NULL) {
    fatal("out of memory for the compressed pool");
  }
  size_t at = 0;
  for (int i = 0; i < pool_count; i++) {
    z.next_in = pool_plain + (size_t)i * opt.size;
    z.avail_in = (uInt)opt.size;
    z.next_out = compressed;
    z.avail_out = (uInt)bound;
    if (deflate(&z, Z_SYNC_FLUSH) != Z_OK || z.avail_in != 0) fatal("deflate of pooled message %d failed", i);
    size_t len = bound - z.avail_out;
    if (len < 4 || memcmp(compressed + len - 4, "\x00\x00\xff\xff", 4) != 0) fatal("sync flush without 00 00 FF FF");
    pool->offset[i] = at;
    pool->length[i] = build_frame(pool->frames + at, (opt.text ? OP_TEXT : OP_BINARY) | FLAG_RSV1, compressed, len - 4,
                                  keys[i % KEY_POOL]);
    at += pool->length[i];
    deflateReset(&z);
  }
  deflateEnd(&z);
  free(compressed);
  return pool;
}

/* Which pooled message a connection sends (and expects back) as its n-th: spreads keys and payloads. */
static int pool_index(const struct conn *c, uint64_t n) { return (int)((c->id * 7u + n) % (uint64_t)pool_count); }

/* ---- connections and writes ---- */

static void update_events(struct conn *c, int want_out) {
  if (c->want_out == want_out) return;
  c->want_out = want_out;
  struct epoll_event event = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.u32 = c->id};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &event) < 0) fatal("epoll_ctl: %s", strerror(errno));
}

static void append_pending(struct conn *c, const uint8_t *data, size_t len) {
  if (c->pend_off > 0 && c->pend_off == c->pend_len) c->pend_off = c->pend_len = 0;
  if (c->pend_len + len > c->pend_cap) {
    size_t cap = c->pend_cap ? c->pend_cap : 4096;
    while (cap < c->pend_len + len) cap *= 2;
    c->pend = realloc(c->pend, cap);
    if (c->pend == NULL) fatal("out of memory for pending writes");
    c->pend_cap = cap;
  }
  memcpy(c->pend + c->pend_len, data, len);
  c->pend_len += len;
}

/* Writes the iovecs in one syscall; what the socket does not take waits for EPOLLOUT. */
static void send_iov(struct conn *c, struct iovec *iov, int count) {
  size_t written = 0;
  if (c->state == C_OPEN || c->state == C_CLOSING) {
    for (int i = 0; i < count; i++) wire_out += iov[i].iov_len;
  }
  if (c->pend_len == c->pend_off) {
    ssize_t n = writev(c->fd, iov, count);
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) fatal("write to connection %u: %s", c->id, strerror(errno));
      n = 0;
    }
    written = (size_t)n;
  }
  for (int i = 0; i < count; i++) {
    if (written >= iov[i].iov_len) {
      written -= iov[i].iov_len;
      continue;
    }
    append_pending(c, (const uint8_t *)iov[i].iov_base + written, iov[i].iov_len - written);
    written = 0;
  }
  if (c->pend_len > c->pend_off) update_events(c, 1);
}

static void send_bytes(struct conn *c, const void *data, size_t len) {
  struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
  send_iov(c, &iov, 1);
}

static void flush_pending(struct conn *c) {
  while (c->pend_off < c->pend_len) {
    ssize_t n = write(c->fd, c->pend + c->pend_off, c->pend_len - c->pend_off);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      fatal("write to connection %u: %s", c->id, strerror(errno));
    }
    c->pend_off += (size_t)n;
  }
  c->pend_off = c->pend_len = 0;
  update_events(c, 0);
}

static void open_socket(struct conn *c) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fatal("socket: %s (raise ulimit -n?)", strerror(errno));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  /* Several source addresses (all of 127.0.0.0/8 is loopback) multiply the ephemeral ports; the
     port is chosen at connect time, per destination, so TIME_WAIT tuples of earlier runs don't clash. */
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  struct sockaddr_in source = {.sin_family = AF_INET, .sin_port = 0};
  source.sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)(c->id % (uint32_t)opt.sources));
  if (bind(fd, (struct sockaddr *)&source, sizeof source) < 0) fatal("bind: %s", strerror(errno));
  struct sockaddr_in target = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
  target.sin_addr.s_addr = htonl(0x7f000001u);
  if (connect(fd, (struct sockaddr *)&target, sizeof target) < 0 && errno != EINPROGRESS) {
    fatal("connect to 127.0.0.1:%d: %s", opt.port, strerror(errno));
  }
  c->fd = fd;
  c->state = C_CONNECTING;
  c->want_out = 1;
  c->left_len = c->pend_len = c->pend_off = 0;
  c->sent = c->received = c->msg_offset = c->next_seq = 0;
  c->msg_opcode = c->msg_compressed = 0;
  c->deflate_pool = NULL;
  c->key_index = (int)(next_random() % HANDSHAKE_KEYS);
  struct epoll_event event = {.events = EPOLLIN | EPOLLOUT, .data.u32 = c->id};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &event) < 0) fatal("epoll_ctl add: %s", strerror(errno));
}

static void close_socket(struct conn *c) {
  if (c->inflater != NULL) {
    inflateEnd(c->inflater);
    free(c->inflater);
    c->inflater = NULL;
  }
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->fd = -1;
  c->state = C_FREE;
}

/* ---- the measured window ---- */

static void snapshot_start(void) {
  t_measure = now_ns();
  window_start_unix_ms = unix_ms();
  flood_answers_at_start = flood_answers;
  flood_connections_at_start = flood_connections;
  messages_at_start = messages;
  bytes_at_start = payload_bytes;
  handshakes_at_start = handshakes;
  wire_out_at_start = wire_out;
  wire_in_at_start = wire_in;
  compressed_replies_at_start = compressed_replies;
  gen_cpu_at_start = cpu_ns();
  server_ticks_at_start = (uint64_t)server_ticks();
  lat_sent_at_start = lat_sent;
  server_core_at_start = core_times(opt.server_core);
  gen_core_at_start = core_times(opt.gen_core);
  phase = PH_MEASURE;
}

static void snapshot_end(void) {
  uint64_t t = now_ns();
  window_end_unix_ms = unix_ms();
  measured_seconds = (double)(t - t_measure) / 1e9;
  gen_cpu = (double)(cpu_ns() - gen_cpu_at_start) / (double)(t - t_measure);
  int64_t ticks = server_ticks();
  if (ticks >= 0 && opt.server_pid > 0) {
    server_cpu = (double)(ticks - (int64_t)server_ticks_at_start) / (double)sysconf(_SC_CLK_TCK) / measured_seconds;
  }
  lat_sent_at_end = lat_sent;
  if (opt.server_core >= 0) {
    struct core_times server_core = core_times(opt.server_core);
    server_core_busy = core_share(server_core_at_start, server_core, 0);
    server_core_steal = core_share(server_core_at_start, server_core, 1);
  }
  if (opt.gen_core >= 0) gen_core_busy = core_share(gen_core_at_start, core_times(opt.gen_core), 0);
}

static void begin_phases(void) {
  t_start = now_ns();
  t_end = t_start + (uint64_t)((opt.warmup_s + opt.duration_s) * 1e9);
  phase = PH_WARMUP;
  if (opt.warmup_s <= 0) snapshot_start();
}

/* ---- mode behaviour ---- */

static void echo_refill(struct conn *c) {
  if (phase != PH_WARMUP && phase != PH_MEASURE) return;
  struct iovec iov[64];
  int count = 0;
  while (c->sent - c->received < (uint64_t)opt.inflight) {
    int index = pool_index(c, c->sent);
    if (c->deflate_pool != NULL) {
      iov[count].iov_base = c->deflate_pool->frames + c->deflate_pool->offset[index];
      iov[count].iov_len = c->deflate_pool->length[index];
    } else {
      iov[count].iov_base = pool_frames + (size_t)index * frame_len;
      iov[count].iov_len = frame_len;
    }
    c->sent++;
    if (++count == 64) {
      send_iov(c, iov, count);
      count = 0;
    }
  }
  if (count > 0) send_iov(c, iov, count);
}

static void broadcast_payload(uint8_t *out, uint64_t seq) {
  memcpy(out, &seq, 8);
  for (size_t j = 8; j < opt.size; j++) out[j] = (uint8_t)(seq * 31 + j);
}

static void publish_more(void) {
  if (phase != PH_WARMUP && phase != PH_MEASURE) return;
  struct conn *publisher = &conns[0];
  uint8_t frames[16 * 1024];
  uint8_t payload[4096];
  size_t used = 0;
  while (pub_sent - pub_done < (uint64_t)opt.window && used + opt.size + 14 <= sizeof frames) {
    broadcast_payload(payload, pub_sent);
    used += build_frame(frames + used, OP_BINARY, payload, opt.size, keys[pub_sent % KEY_POOL]);
    pub_sent++;
  }
  if (used > 0) send_bytes(publisher, frames, used);
}

static void latency_schedule(void) {
  uint64_t period = (uint64_t)(1e9 / opt.rate);
  uint64_t next = t_start + lat_sent * period;
  struct itimerspec spec = {.it_value = {.tv_sec = (time_t)(next / 1000000000ull), .tv_nsec = (long)(next % 1000000000ull)}};
  if (timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &spec, NULL) < 0) fatal("timerfd_settime: %s", strerror(errno));
}

/* Open loop: every message has an intended send time; it leaves as soon as that time has come, and
   its latency is counted from that time, so a stalled server cannot hide its stall. */
static void latency_send_due(void) {
  if (phase == PH_DRAIN || phase == PH_DONE) return;
  uint64_t period = (uint64_t)(1e9 / opt.rate);
  uint64_t t = now_ns();
  uint64_t limit = t_end;
  while (lat_sent < (t - t_start) / period + 1) {
    uint64_t intended = t_start + lat_sent * period;
    if (intended >= limit) break;
    if (t - intended > lat_max_lag) lat_max_lag = t - intended;
    struct conn *c = &conns[lat_next_conn];
    lat_next_conn = (lat_next_conn + 1) % (uint64_t)nconns;
    int index = pool_index(c, c->sent);
    uint8_t frame[256];
    memcpy(frame, pool_frames + (size_t)index * frame_len, frame_len);
    const uint8_t *key = frame + header_len - 4;
    uint8_t head[LATENCY_HEAD];
    memcpy(head, &intended, 8);
    memcpy(head + 8, &lat_sent, 8);
    for (int i = 0; i < LATENCY_HEAD; i++) frame[header_len + i] = head[i] ^ key[i & 3];
    send_bytes(c, frame, frame_len);
    c->sent++;
    lat_sent++;
  }
  latency_schedule();
}

static void record_latency(uint64_t value) {
  size_t index;
  if (value < 2 * HIST_SUB) {
    index = (size_t)value;
  } else {
    int top = 63 - __builtin_clzll(value);
    int shift = top - 6;
    index = (size_t)(2 * HIST_SUB + (top - 7) * HIST_SUB + ((value >> shift) - HIST_SUB));
    if (index >= HIST_BUCKETS) index = HIST_BUCKETS - 1;
  }
  histogram[index]++;
}

static double bucket_value(size_t index) {
  if (index < 2 * HIST_SUB) return (double)index;
  size_t rest = index - 2 * HIST_SUB;
  int top = (int)(rest / HIST_SUB) + 7;
  uint64_t low = (uint64_t)(HIST_SUB + rest % HIST_SUB) << (top - 6);
  uint64_t width = 1ull << (top - 6);
  return (double)low + (double)width / 2;
}

static double percentile(double fraction) {
  uint64_t total = 0;
  for (size_t i = 0; i < HIST_BUCKETS; i++) total += histogram[i];
  if (total == 0) return 0;
  uint64_t rank = (uint64_t)(fraction * (double)total);
  if (rank >= total) rank = total - 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < HIST_BUCKETS; i++) {
    seen += histogram[i];
    if (seen > rank) return bucket_value(i);
  }
  return 0;
}

/* ---- receiving ---- */

static void on_message_data(struct conn *c, int opcode, int fin, const uint8_t *payload, size_t len) {
  if (opcode == OP_CONTINUATION) {
    if (c->msg_offset == 0 && c->msg_opcode == 0) fatal("connection %u: continuation without a message", c->id);
  } else {
    if (c->msg_opcode != 0) fatal("connection %u: new message inside a fragmented one (RFC 6455 5.4)", c->id);
    c->msg_opcode = opcode;
  }
  if (c->role == ROLE_SUBSCRIBER) {
    if (c->msg_offset + len > opt.size) fatal("subscriber %u: broadcast longer than %zu bytes", c->id, opt.size);
    uint8_t expected[4096];
    broadcast_payload(expected, c->next_seq);
    if (memcmp(payload, expected + c->msg_offset, len) != 0) {
      fatal("subscriber %u: broadcast %llu has the wrong payload (lost, reordered or corrupted)", c->id,
            (unsigned long long)c->next_seq);
    }
  } else {
    if (c->msg_offset + len > opt.size) fatal("connection %u: echo longer than the %zu bytes sent", c->id, opt.size);
    if (c->received >= c->sent) fatal("connection %u: a message arrived that was never sent", c->id);
    const uint8_t *plain = pool_plain + (size_t)pool_index(c, c->received) * opt.size;
    size_t from = c->msg_offset, skip = 0;
    if (opt.mode == MODE_LATENCY && from < LATENCY_HEAD) skip = LATENCY_HEAD - from < len ? LATENCY_HEAD - from : len;
    if (memcmp(payload + skip, plain + from + skip, len - skip) != 0) {
      fatal("connection %u: echo of message %llu differs from what was sent", c->id, (unsigned long long)c->received);
    }
    if (opt.mode == MODE_LATENCY && from == 0 && len >= LATENCY_HEAD) {
      uint64_t intended, seq;
      memcpy(&intended, payload, 8);
      memcpy(&seq, payload + 8, 8);
      if (seq >= lat_sent) fatal("connection %u: echo carries sequence %llu never sent", c->id, (unsigned long long)seq);
      /* Only messages sent inside the measured window count; warmup and drain ones do not. */
      int in_window = t_measure != 0 && seq >= lat_sent_at_start && (lat_sent_at_end == 0 || seq < lat_sent_at_end);
      if (in_window) {
        record_latency(now_ns() - intended);
        lat_measured++;
      }
    }
  }
  c->msg_offset += len;
  if (!fin) return;
  if (c->msg_offset != opt.size) fatal("connection %u: message of %llu bytes, expected %zu", c->id,
                                        (unsigned long long)c->msg_offset, opt.size);
  int expected_opcode = c->role == ROLE_SUBSCRIBER ? OP_BINARY : opt.text ? OP_TEXT : OP_BINARY;
  if (c->msg_opcode != expected_opcode) fatal("connection %u: opcode %d, expected %d", c->id, c->msg_opcode, expected_opcode);
  c->msg_offset = 0;
  c->msg_opcode = 0;
  messages++;
  payload_bytes += opt.size;
  if (c->role == ROLE_SUBSCRIBER) {
    uint32_t *count = &broadcast_count[c->next_seq % BROADCAST_RING];
    if (++*count == (uint32_t)subscribers) {
      *count = 0;
      pub_done++;
    }
    c->next_seq++;
  } else {
    c->received++;
    if (opt.mode == MODE_LATENCY) lat_received++;
  }
}

/* Feeds bytes to the connection's inflate stream until they are used up or the output room is. A block
   with BFINAL set ends zlib's stream; what follows starts a new one (RFC 7692 section 7.2.3.4). */
static void inflate_bytes(struct conn *c, const uint8_t *data, size_t len) {
  z_stream *z = c->inflater;
  z->next_in = (Bytef *)data;
  z->avail_in = (uInt)len;
  while (z->avail_in > 0 && z->avail_out > 0) {
    int rc = inflate(z, Z_SYNC_FLUSH);
    if (rc == Z_STREAM_END) {
      inflateReset(z);
    } else if (rc == Z_BUF_ERROR) {
      break;
    } else if (rc != Z_OK) {
      fatal("connection %u: reply %llu does not inflate: %s (RFC 7692 7.2.2)", c->id, (unsigned long long)c->received,
            z->msg != NULL ? z->msg : "zlib error");
    }
  }
}

/* One frame of a compressed reply (RFC 7692 section 7.2.2): its bytes, then on the message's last frame
   the 00 00 FF FF the sender removed, inflated into room for one byte more than the message may still
   hold, so that a longer reply shows. The window is emptied after the message when the server agreed to
   server_no_context_takeover: a server that reaches back into an earlier message then fails to inflate. */
static void on_compressed_data(struct conn *c, int opcode, int fin, const uint8_t *body, size_t len) {
  static const uint8_t trailer[4] = {0x00, 0x00, 0xff, 0xff};
  z_stream *z = c->inflater;
  size_t expected = opt.size - c->msg_offset;
  z->next_out = inflated;
  z->avail_out = (uInt)(expected + 1);
  inflate_bytes(c, body, len);
  if (fin) inflate_bytes(c, trailer, sizeof trailer);
  size_t produced = expected + 1 - z->avail_out;
  if (produced > expected) fatal("connection %u: reply %llu inflates to more than the %zu bytes sent", c->id,
                                 (unsigned long long)c->received, opt.size);
  on_message_data(c, opcode, fin, inflated, produced);
  if (!fin) return;
  compressed_replies++;
  if (c->deflate.server_no_context_takeover) inflateReset(z);
}

static void on_close_frame(struct conn *c) {
  if (c->state == C_CLOSING) {
    c->state = C_AWAIT_EOF;
    return;
  }
  if (phase == PH_DONE) return;
  fatal("connection %u: the server sent a close frame", c->id);
}

static void send_close(struct conn *c) {
  /* Status 1000, normal closure (RFC 6455 section 7.4.1). */
  static const uint8_t body[2] = {0x03, 0xe8};
  uint8_t frame[16];
  size_t len = build_frame(frame, OP_CLOSE, body, 2, keys[c->id % KEY_POOL]);
  send_bytes(c, frame, len);
  c->state = C_CLOSING;
}

static size_t parse_frames(struct conn *c, const uint8_t *data, size_t len) {
  size_t pos = 0;
  while (len - pos >= 2 && (c->state == C_OPEN || c->state == C_CLOSING)) {
    uint8_t b0 = data[pos], b1 = data[pos + 1];
    /* RFC 6455 section 5.1: a server must not mask the frames it sends. */
    if (b1 & 0x80) fatal("connection %u: the server sent a masked frame", c->id);
    int opcode = b0 & 0x0f, fin = (b0 & 0x80) != 0;
    /* RSV bits only as an agreed extension defines them (RFC 6455 section 5.2): permessage-deflate's
       RSV1 on the first frame of a data message, never on a continuation or control frame (RFC 7692 6.1). */
    int rsv1_allowed = c->inflater != NULL && (opcode == OP_TEXT || opcode == OP_BINARY);
    if ((b0 & 0x30) || ((b0 & FLAG_RSV1) && !rsv1_allowed)) {
      fatal("connection %u: RSV bits 0x%x on opcode %d without an extension that defines them (RFC 6455 5.2, RFC 7692 6.1)",
            c->id, b0 & 0x70, opcode);
    }
    size_t header = 2;
    uint64_t payload = b1 & 0x7f;
    if (payload == 126) {
      if (len - pos < 4) break;
      payload = (uint64_t)data[pos + 2] << 8 | data[pos + 3];
      header = 4;
    } else if (payload == 127) {
      if (len - pos < 10) break;
      payload = 0;
      for (int i = 0; i < 8; i++) payload = payload << 8 | data[pos + 2 + i];
      header = 10;
    }
    if (payload > SCRATCH_BYTES / 2) fatal("connection %u: frame of %llu bytes", c->id, (unsigned long long)payload);
    if (len - pos < header + payload) break;
    const uint8_t *body = data + pos + header;
    pos += header + (size_t)payload;
    wire_in += header + payload;
    if (opcode == OP_CLOSE) {
      on_close_frame(c);
    } else if (opcode == OP_PING) {
      uint8_t pong[140];
      send_bytes(c, pong, build_frame(pong, OP_PONG, body, (size_t)payload, keys[c->id % KEY_POOL]));
    } else if (opcode == OP_PONG) {
      continue;
    } else if (opcode <= OP_BINARY) {
      if (c->state == C_CLOSING) continue;
      if (opcode != OP_CONTINUATION) c->msg_compressed = (b0 & FLAG_RSV1) != 0;
      if (c->msg_compressed) on_compressed_data(c, opcode, fin, body, (size_t)payload);
      else on_message_data(c, opcode, fin, body, (size_t)payload);
    } else {
      fatal("connection %u: reserved opcode %d (5.2)", c->id, opcode);
    }
  }
  return pos;
}

static void on_open(struct conn *c) {
  c->state = C_OPEN;
  if (opt.mode == MODE_HANDSHAKE) {
    send_close(c);
    return;
  }
  opened++;
}

/* The value of a response header field, leading whitespace skipped; NULL when absent. */
static const char *header_value(const char *head, const char *name) {
  size_t name_len = strlen(name);
  for (const char *line = strstr(head, "\r\n"); line != NULL; line = strstr(line + 2, "\r\n")) {
    if (strncasecmp(line + 2, name, name_len) == 0 && line[2 + name_len] == ':') {
      const char *value = line + 3 + name_len;
      while (*value == ' ' || *value == '\t') value++;
      return value;
    }
  }
  return NULL;
}

static const char *skip_space(const char *cursor) {
  while (*cursor == ' ' || *cursor == '\t') cursor++;
  return cursor;
}

/* A window-bits value: "a decimal integer value without leading zeroes between 8 to 15", as a token
   or a quoted string (RFC 7692 sections 7.1.2.1-7.1.2.2). */
static int window_bits(struct conn *c, const char **cursor, const char *name) {
  const char *at = *cursor;
  int quoted = *at == '"';
  if (quoted) at++;
  int bits = -1;
  if (at[0] == '1' && at[1] >= '0' && at[1] <= '5') {
    bits = 10 + at[1] - '0';
    at += 2;
  } else if (at[0] == '8' || at[0] == '9') {
    bits = at[0] - '0';
    at += 1;
  }
  if (quoted && *at++ != '"') bits = -1;
  if (bits < 0 || (*at >= '0' && *at <= '9')) fatal("connection %u: invalid %s in the response (RFC 7692 7.1.2)", c->id, name);
  *cursor = at;
  return bits;
}

/* The server's permessage-deflate response to our offer (RFC 7692 section 7.1): one extension, known
   parameters, each at most once, window bits where they must be; anything else fails the connection. */
static struct deflate_params parse_deflate_response(struct conn *c, const char *value) {
  struct deflate_params params = {0, 0, 15, 15};
  static const char name[] = "permessage-deflate";
  if (strncasecmp(value, name, sizeof name - 1) != 0) fatal("connection %u: the server accepted an extension we did not offer", c->id);
  const char *cursor = skip_space(value + sizeof name - 1);
  int seen[4] = {0, 0, 0, 0};
  while (*cursor == ';') {
    cursor = skip_space(cursor + 1);
    size_t len = strspn(cursor, "abcdefghijklmnopqrstuvwxyz_");
    static const char *const known[4] = {"server_no_context_takeover", "client_no_context_takeover",
                                         "server_max_window_bits", "client_max_window_bits"};
    int which = -1;
    for (int i = 0; i < 4; i++) {
      if (strlen(known[i]) == len && strncmp(cursor, known[i], len) == 0) which = i;
    }
    if (which < 0) fatal("connection %u: unknown permessage-deflate parameter in the response (RFC 7692 7.1)", c->id);
    if (seen[which]++) fatal("connection %u: %s twice in the response (RFC 7692 7.1)", c->id, known[which]);
    cursor = skip_space(cursor + len);
    int has_value = *cursor == '=';
    if (has_value) cursor = skip_space(cursor + 1);
    if (which <= 1 && has_value) fatal("connection %u: %s with a value (RFC 7692 7.1.1)", c->id, known[which]);
    if (which >= 2 && !has_value) fatal("connection %u: %s without a value (RFC 7692 7.1.2)", c->id, known[which]);
    if (which == 0) params.server_no_context_takeover = 1;
    if (which == 1) params.client_no_context_takeover = 1;
    if (which == 2) params.server_max_window_bits = window_bits(c, &cursor, known[which]);
    if (which == 3) params.client_max_window_bits = window_bits(c, &cursor, known[which]);
    cursor = skip_space(cursor);
  }
  if (*cursor == ',') fatal("connection %u: more than one extension in the response; we offered one", c->id);
  if (*cursor != '\r') fatal("connection %u: malformed Sec-WebSocket-Extensions in the response", c->id);
  return params;
}

/* Sets the connection up for what the server agreed: compressed frames within the client window it
   allows, and an inflate stream as large as the server's window. */
static void start_deflate(struct conn *c, const char *extensions) {
  if (extensions == NULL) fatal("connection %u: the server declined permessage-deflate (no Sec-WebSocket-Extensions)", c->id);
  c->deflate = parse_deflate_response(c, extensions);
  c->deflate_pool = deflate_pool_for(c->deflate.client_max_window_bits);
  c->inflater = calloc(1, sizeof *c->inflater);
  if (c->inflater == NULL || inflateInit2(c->inflater, -c->deflate.server_max_window_bits) != Z_OK) {
    fatal("connection %u: cannot set up inflate", c->id);
  }
  if (!deflate_reported) {
    reported_deflate = c->deflate;
    deflate_reported = 1;
  }
}

/* Checks the server's answer to the opening handshake (RFC 6455 section 4.2.2 / 4.1). */
static size_t parse_upgrade(struct conn *c, const uint8_t *data, size_t len) {
  const uint8_t *end = memmem(data, len, "\r\n\r\n", 4);
  if (end == NULL) {
    if (len > MAX_RESPONSE_HEAD) fatal("connection %u: response head over %d bytes", c->id, MAX_RESPONSE_HEAD);
    return 0;
  }
  size_t head_len = (size_t)(end - data) + 4;
  char head[MAX_RESPONSE_HEAD + 1];
  if (head_len > MAX_RESPONSE_HEAD) fatal("connection %u: response head too long", c->id);
  memcpy(head, data, head_len);
  head[head_len] = 0;
  if (strncmp(head, "HTTP/1.1 101", 12) != 0) {
    char *line_end = strstr(head, "\r\n");
    if (line_end) *line_end = 0;
    fatal("connection %u: upgrade refused: %s", c->id, head);
  }
  const char *accept = header_value(head, "sec-websocket-accept");
  if (accept == NULL) fatal("connection %u: no Sec-WebSocket-Accept", c->id);
  size_t expected_len = strlen(hs_accept[c->key_index]);
  if (strncmp(accept, hs_accept[c->key_index], expected_len) != 0 ||
      (accept[expected_len] != '\r' && accept[expected_len] != ' ')) {
    fatal("connection %u: wrong Sec-WebSocket-Accept", c->id);
  }
  const char *extensions = header_value(head, "sec-websocket-extensions");
  if (opt.deflate) {
    start_deflate(c, extensions);
  } else if (extensions != NULL) {
    /* RFC 6455 section 4.1: an extension the client did not ask for fails the connection. */
    fatal("connection %u: the server answered with extensions we did not offer", c->id);
  }
  on_open(c);
  return head_len;
}

static void finish_handshake_cycle(struct conn *c) {
  close_socket(c);
  handshakes++;
  if (phase == PH_WARMUP || phase == PH_MEASURE) open_socket(c);
}

static void on_eof(struct conn *c) {
  if (c->state == C_AWAIT_EOF) {
    finish_handshake_cycle(c);
    return;
  }
  if (phase == PH_DONE || phase == PH_DRAIN) {
    close_socket(c);
    return;
  }
  fatal("connection %u: the server closed the connection (state %d)", c->id, c->state);
}

static void keep_left(struct conn *c, const uint8_t *data, size_t len) {
  if (len > c->left_cap) {
    c->left = realloc(c->left, len);
    if (c->left == NULL) fatal("out of memory for partial frames");
    c->left_cap = len;
  }
  memmove(c->left, data, len);
  c->left_len = len;
}

/* ---- flood mode: upgrade requests the server must refuse ----

   Each of --concurrency connections: connect, send the one pre-built request, read the answer's
   status line and, by its Content-Length, its body. A server that says Connection: close is left to
   close (so the TIME_WAIT is its own, and no request goes to a closing socket), then the slot connects
   again; a server that keeps the connection gets the next request on it as soon as the answer is
   complete. Every answer is counted by its status: a refusal should be 400 (bad-key) or 403
   (bad-origin), and anything else, above all a 101, is reported, not fatal, so the run shows it. */

/* 24 base64 characters without padding: they decode to 18 bytes, not the 16 a key must hold (RFC 6455
   section 4.2.1 item 5), so the answer is 400. */
#define FLOOD_KEY_MALFORMED "AAAAAAAAAAAAAAAAAAAAAAAA"
/* The sample nonce of RFC 6455 section 1.3: a valid key, so only the Origin is left to refuse (403). */
#define FLOOD_KEY_VALID "dGhlIHNhbXBsZSBub25jZQ=="
/* A connection that neither connects, nor is answered, nor is closed by the server this long is given up. */
#define FLOOD_TIMEOUT_NS 3000000000ull
#define FLOOD_EXPIRY_CHECK_NS 100000000ull

static int flood_expected_status(void) { return opt.flood == FLOOD_BAD_KEY ? 400 : 403; }

/* Byte for byte what autocannon writes for bench/load/flood-requests.ts's variants: its request line,
   Host and Connection: keep-alive, then the handshake fields (RFC 6455 section 4.1) in that file's order.
   The two Connection fields read as one list, "keep-alive, Upgrade" (RFC 9110 section 5.3). */
static void prepare_flood_request(void) {
  int n = snprintf(flood_request, sizeof flood_request,
                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: keep-alive\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: %s\r\n\r\n",
                   opt.path, opt.port, opt.flood == FLOOD_BAD_KEY ? FLOOD_KEY_MALFORMED : FLOOD_KEY_VALID, opt.origin);
  if (n < 0 || (size_t)n >= sizeof flood_request) fatal("flood request too long");
  flood_request_len = (size_t)n;
}

static void flood_open(struct conn *c) {
  open_socket(c);
  c->flood_since = now_ns();
  flood_connections++;
}

/* Ends a connection and, while the flood lasts, opens the next one in its place. */
static void flood_recycle(struct conn *c) {
  close_socket(c);
  if (phase == PH_WARMUP || phase == PH_MEASURE) flood_open(c);
}

/* Sends the request; a connection the server has just reset is given up like one closed unanswered. */
static void flood_ask(struct conn *c) {
  c->state = C_ASKED;
  c->flood_since = now_ns();
  ssize_t n = write(c->fd, flood_request, flood_request_len);
  if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
    flood_closed_early++;
    flood_recycle(c);
    return;
  }
  if (n < 0 && errno != EAGAIN && errno != EINTR) fatal("write to connection %u: %s", c->id, strerror(errno));
  size_t written = n < 0 ? 0 : (size_t)n;
  if (written < flood_request_len) {
    append_pending(c, (const uint8_t *)flood_request + written, flood_request_len - written);
    update_events(c, 1);
  }
}

/* Whether a field value, a comma-separated list (RFC 9110 section 5.6.1), holds the token, in any case. */
static int list_has_token(const char *value, const char *token) {
  size_t token_len = strlen(token);
  const char *cursor = value;
  while (*cursor != '\r' && *cursor != 0) {
    cursor = skip_space(cursor);
    size_t len = strcspn(cursor, ",\r");
    size_t trimmed = len;
    while (trimmed > 0 && (cursor[trimmed - 1] == ' ' || cursor[trimmed - 1] == '\t')) trimmed--;
    if (trimmed == token_len && strncasecmp(cursor, token, token_len) == 0) return 1;
    cursor += len;
    if (*cursor == ',') cursor++;
  }
  return 0;
}

/* Reads one response head: the status (RFC 9110 section 15: three digits, 100 to 599), how long the body
   is (RFC 9112 section 6.3) and whether the server closes after it (RFC 9112 section 9.6). Returns the
   head's length, 0 while it is incomplete. */
static size_t flood_response_head(struct conn *c, const uint8_t *data, size_t len) {
  const uint8_t *end = memmem(data, len, "\r\n\r\n", 4);
  if (end == NULL) {
    if (len > MAX_RESPONSE_HEAD) fatal("connection %u: response head over %d bytes", c->id, MAX_RESPONSE_HEAD);
    return 0;
  }
  size_t head_len = (size_t)(end - data) + 4;
  if (head_len > MAX_RESPONSE_HEAD) fatal("connection %u: response head too long", c->id);
  char head[MAX_RESPONSE_HEAD + 1];
  memcpy(head, data, head_len);
  head[head_len] = 0;
  int valid = strncmp(head, "HTTP/1.", 7) == 0 && (head[7] == '0' || head[7] == '1') && head[8] == ' ' &&
              head[9] >= '1' && head[9] <= '5' && head[10] >= '0' && head[10] <= '9' && head[11] >= '0' &&
              head[11] <= '9' && (head[12] == ' ' || head[12] == '\r');
  if (!valid) {
    head[strcspn(head, "\r")] = 0;
    fatal("connection %u: not an HTTP/1.x status line: %.80s", c->id, head);
  }
  c->flood_status = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
  /* The generator reads bodies by length only; a refusal has no reason to be chunked. */
  if (header_value(head, "transfer-encoding") != NULL) fatal("connection %u: a chunked answer, not supported", c->id);
  const char *connection = header_value(head, "connection");
  const char *length = header_value(head, "content-length");
  c->flood_server_closes = connection != NULL && list_has_token(connection, "close");
  if (length != NULL) {
    char *after;
    unsigned long long value = strtoull(length, &after, 10);
    if (after == length || (*after != '\r' && *after != ' ')) fatal("connection %u: malformed Content-Length", c->id);
    c->flood_body_left = (size_t)value;
  } else if (c->flood_status < 200 || c->flood_status == 204 || c->flood_status == 304) {
    c->flood_body_left = 0;
  } else {
    /* No length: the body runs to the end of the connection (RFC 9112 section 6.3 item 8). */
    c->flood_body_left = SIZE_MAX;
    c->flood_server_closes = 1;
  }
  return head_len;
}

/* A whole answer is in: count it, then wait for the server to close, or ask again on the same
   connection when the server keeps it open. A 101 means the server accepted a handshake it had to
   refuse: counted like any other status, and the connection (now a WebSocket) is dropped. */
static void flood_answered(struct conn *c) {
  flood_statuses[c->flood_status]++;
  flood_answers++;
  if (c->flood_status == 101) {
    flood_recycle(c);
  } else if (c->flood_server_closes) {
    c->state = C_AWAIT_EOF;
    c->flood_since = now_ns();
  } else if (phase == PH_WARMUP || phase == PH_MEASURE) {
    flood_ask(c);
  } else {
    c->state = C_AWAIT_EOF;
  }
}

/* The server closed (or reset) the connection: after an answer that said so, the normal end. */
static void flood_ended(struct conn *c) {
  if (c->state == C_BODY && c->flood_body_left == SIZE_MAX) flood_answered(c);
  else if (c->state != C_AWAIT_EOF) flood_closed_early++;
  if (c->state != C_FREE && c->state != C_CONNECTING) flood_recycle(c);
}

static void flood_readable(struct conn *c) {
  /* A failed connect shows as EPOLLERR with EPOLLOUT; on_writable reports it. */
  if (c->state == C_CONNECTING) return;
  size_t have = c->left_len;
  if (have > 0) memcpy(scratch, c->left, have);
  ssize_t n = read(c->fd, scratch + have, READ_MAX);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    flood_ended(c);
    return;
  }
  size_t len = have + (size_t)n, pos = 0;
  c->left_len = 0;
  while (pos < len) {
    if (c->state == C_ASKED) {
      size_t head_len = flood_response_head(c, scratch + pos, len - pos);
      if (head_len == 0) {
        keep_left(c, scratch + pos, len - pos);
        return;
      }
      pos += head_len;
      c->state = C_BODY;
      /* After a 101 come WebSocket frames, not a body. */
      if (c->flood_status == 101) {
        flood_answered(c);
        return;
      }
    } else if (c->state == C_BODY) {
      size_t take = len - pos < c->flood_body_left ? len - pos : c->flood_body_left;
      pos += take;
      if (c->flood_body_left != SIZE_MAX) c->flood_body_left -= take;
    } else {
      fatal("connection %u: %zu bytes after a complete answer, never asked for", c->id, len - pos);
    }
    if (c->state == C_BODY && c->flood_body_left == 0) {
      flood_answered(c);
      if (c->state != C_ASKED && c->state != C_AWAIT_EOF) return;
    }
  }
}

/* Gives up connections stuck longer than FLOOD_TIMEOUT_NS (a lost SYN, an unanswered request, a server
   that said it would close and does not), checked every FLOOD_EXPIRY_CHECK_NS. */
static void flood_expire_stalled(void) {
  uint64_t t = now_ns();
  if (t < flood_next_expiry_check) return;
  flood_next_expiry_check = t + FLOOD_EXPIRY_CHECK_NS;
  for (int i = 0; i < nconns; i++) {
    struct conn *c = &conns[i];
    if (c->state == C_FREE || t - c->flood_since < FLOOD_TIMEOUT_NS) continue;
    flood_timeouts++;
    flood_recycle(c);
  }
}

static void on_readable(struct conn *c) {
  if (opt.mode == MODE_FLOOD) {
    flood_readable(c);
    return;
  }
  size_t have = c->left_len;
  if (have > 0) memcpy(scratch, c->left, have);
  size_t room = SCRATCH_BYTES - have;
  if (room > READ_MAX) room = READ_MAX;
  ssize_t n = read(c->fd, scratch + have, room);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    if (c->state == C_AWAIT_EOF || phase == PH_DONE) {
      finish_handshake_cycle(c);
      return;
    }
    fatal("read from connection %u: %s", c->id, strerror(errno));
  }
  if (n == 0) {
    on_eof(c);
    return;
  }
  size_t len = have + (size_t)n, pos = 0;
  if (c->state == C_UPGRADING) pos = parse_upgrade(c, scratch, len);
  if (c->state == C_OPEN || c->state == C_CLOSING) pos += parse_frames(c, scratch + pos, len - pos);
  if (c->state == C_UPGRADING || c->state == C_OPEN || c->state == C_CLOSING) keep_left(c, scratch + pos, len - pos);
  else c->left_len = 0;
  if (c->state == C_OPEN && opt.mode == MODE_ECHO) echo_refill(c);
}

static void on_writable(struct conn *c) {
  if (c->state == C_CONNECTING) {
    int error = 0;
    socklen_t size = sizeof error;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &size);
    if (error != 0) fatal("connect to 127.0.0.1:%d: %s", opt.port, strerror(error));
    update_events(c, 0);
    if (opt.mode == MODE_FLOOD) {
      flood_ask(c);
      return;
    }
    c->state = C_UPGRADING;
    send_bytes(c, request[c->role][c->key_index], request_len[c->role][c->key_index]);
    return;
  }
  flush_pending(c);
}

/* ---- main loop ---- */

static void prepare_requests(void) {
  for (int role = ROLE_ECHO; role <= ROLE_SUBSCRIBER; role++) {
    for (int i = 0; i < HANDSHAKE_KEYS; i++) {
      request_len[role][i] = write_request(request[role][i], sizeof request[role][i], (enum role)role, i);
    }
  }
}

/* Opens connections a batch at a time so the server's accept backlog never overflows. */
static void open_more(void) {
  int pending = started - opened;
  while (started < nconns && pending < opt.concurrency) {
    open_socket(&conns[started]);
    started++;
    pending++;
  }
}

static void advance_phases(void) {
  uint64_t t = now_ns();
  if (phase == PH_WARMUP && t >= t_start + (uint64_t)(opt.warmup_s * 1e9)) snapshot_start();
  if (phase == PH_MEASURE && t >= t_end) {
    snapshot_end();
    if (opt.mode == MODE_LATENCY) {
      phase = PH_DRAIN;
      drain_deadline = t + DRAIN_LIMIT_NS;
    } else {
      phase = PH_DONE;
    }
  }
  if (phase == PH_DRAIN) {
    if (lat_received == lat_sent) phase = PH_DONE;
    else if (t >= drain_deadline) fatal("%llu echoes never came back", (unsigned long long)(lat_sent - lat_received));
  }
}

static int wait_timeout_ms(void) {
  if (phase == PH_CONNECTING || phase == PH_DONE) return 1000;
  uint64_t t = now_ns();
  uint64_t next = phase == PH_WARMUP ? t_start + (uint64_t)(opt.warmup_s * 1e9) : phase == PH_MEASURE ? t_end : t + 10000000;
  if (next <= t) return 0;
  uint64_t ms = (next - t + 999999) / 1000000;
  /* The flood looks for stalled connections this often, whether or not anything arrives. */
  uint64_t most = opt.mode == MODE_FLOOD ? FLOOD_EXPIRY_CHECK_NS / 1000000 : 1000;
  return ms > most ? (int)most : (int)ms;
}

static void on_all_open(void) {
  if (opt.mode == MODE_IDLE) {
    printf("{\"event\":\"ready\",\"conns\":%d,\"connect_seconds\":%.3f}\n", nconns, (double)(now_ns() - t_start) / 1e9);
    fflush(stdout);
    return;
  }
  begin_phases();
  if (opt.mode == MODE_ECHO) {
    for (int i = 0; i < nconns; i++) echo_refill(&conns[i]);
  } else if (opt.mode == MODE_BROADCAST) {
    publish_more();
  } else if (opt.mode == MODE_LATENCY) {
    latency_send_due();
  }
}

static void run(void) {
  struct epoll_event events[1024];
  if (opt.mode == MODE_HANDSHAKE || opt.mode == MODE_FLOOD) {
    t_start = now_ns();
    begin_phases();
    for (int i = 0; i < nconns; i++) {
      if (opt.mode == MODE_FLOOD) flood_open(&conns[i]);
      else open_socket(&conns[i]);
    }
    started = nconns;
  } else {
    t_start = now_ns();
    open_more();
  }
  int all_open = 0;
  for (;;) {
    int n = epoll_wait(ep, events, 1024, wait_timeout_ms());
    if (n < 0 && errno != EINTR) fatal("epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
      uint32_t id = events[i].data.u32;
      if (id == EV_STDIN) {
        char line[256];
        /* Any line, or EOF, ends the hold. */
        if (read(0, line, sizeof line) >= 0 || errno != EAGAIN) stdin_closed = 1;
        continue;
      }
      if (id == EV_TIMER) {
        uint64_t expirations;
        if (read(timer_fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN) fatal("timerfd read");
        latency_send_due();
        continue;
      }
      struct conn *c = &conns[id];
      if (c->state == C_FREE) continue;
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
      if (c->state != C_FREE && (events[i].events & EPOLLOUT)) on_writable(c);
    }
    if (!all_open && opt.mode != MODE_HANDSHAKE && opt.mode != MODE_FLOOD) {
      open_more();
      if (opened == nconns) {
        all_open = 1;
        on_all_open();
      }
    }
    if (opt.mode == MODE_IDLE) {
      if (all_open && stdin_closed) break;
      continue;
    }
    if (opt.mode == MODE_BROADCAST) publish_more();
    if (opt.mode == MODE_FLOOD) flood_expire_stalled();
    if (opt.mode == MODE_LATENCY && phase == PH_MEASURE && now_ns() >= t_end) latency_send_due();
    if (phase != PH_CONNECTING) advance_phases();
    if (phase == PH_DONE) break;
  }
}

/* A JSON string (RFC 8259 section 7): quotes, backslashes and control characters escaped. */
static void print_json_string(const char *text, size_t len) {
  putchar('"');
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)text[i];
    if (ch == '"' || ch == '\\') printf("\\%c", ch);
    else if (ch == '\r') fputs("\\r", stdout);
    else if (ch == '\n') fputs("\\n", stdout);
    else if (ch < 0x20) printf("\\u%04x", ch);
    else putchar(ch);
  }
  putchar('"');
}

/* The flood's own fields: every answer of the run by status, the 1xx and 2xx among them (handshakes
   accepted that had to be refused), what went wrong instead of an answer, the TCP connections opened
   in the measured window, and the request as sent. */
static void print_flood_fields(void) {
  uint64_t accepted = 0;
  printf(",\"flood\":\"%s\",\"expected_status\":%d,\"statuses\":{", opt.flood == FLOOD_BAD_KEY ? "bad-key" : "bad-origin",
         flood_expected_status());
  const char *separator = "";
  for (int status = 100; status < FLOOD_STATUS_LIMIT; status++) {
    if (flood_statuses[status] == 0) continue;
    printf("%s\"%d\":%llu", separator, status, (unsigned long long)flood_statuses[status]);
    separator = ",";
    if (status < 300) accepted += flood_statuses[status];
  }
  printf("},\"accepted\":%llu,\"closed_early\":%llu,\"timeouts\":%llu,\"connections\":%llu,\"request\":",
         (unsigned long long)accepted, (unsigned long long)flood_closed_early, (unsigned long long)flood_timeouts,
         (unsigned long long)(flood_connections - flood_connections_at_start));
  print_json_string(flood_request, flood_request_len);
}

static void print_result(void) {
  const char *names[] = {"echo", "broadcast", "latency", "handshake", "idle", "flood"};
  double seconds = measured_seconds > 0 ? measured_seconds : 1;
  uint64_t count = opt.mode == MODE_HANDSHAKE ? handshakes - handshakes_at_start
                   : opt.mode == MODE_FLOOD   ? flood_answers - flood_answers_at_start
                                              : messages - messages_at_start;
  printf("{\"mode\":\"%s\",\"conns\":%d,\"size\":%zu,\"seconds\":%.4f,\"count\":%llu,\"rate\":%.1f,"
         "\"payload_mb_per_s\":%.3f,\"gen_cpu\":%.4f,\"server_cpu\":%.4f,\"server_core_busy\":%.4f,"
         "\"server_core_steal\":%.4f,\"gen_core_busy\":%.4f",
         names[opt.mode], opt.mode == MODE_BROADCAST ? subscribers : nconns, opt.size, seconds,
         (unsigned long long)count, (double)count / seconds,
         (double)(payload_bytes - bytes_at_start) / seconds / 1e6, gen_cpu, server_cpu, server_core_busy,
         server_core_steal, gen_core_busy);
  uint64_t out = wire_out - wire_out_at_start, in = wire_in - wire_in_at_start;
  printf(",\"wire_out_bytes\":%llu,\"wire_in_bytes\":%llu,\"wire_out_per_msg\":%.1f,\"wire_in_per_msg\":%.1f",
         (unsigned long long)out, (unsigned long long)in, count > 0 ? (double)out / (double)count : 0,
         count > 0 ? (double)in / (double)count : 0);
  printf(",\"window_start_unix_ms\":%.1f,\"window_end_unix_ms\":%.1f", window_start_unix_ms, window_end_unix_ms);
  if (opt.mode == MODE_FLOOD) print_flood_fields();
  if (opt.deflate) {
    const struct deflate_params *p = &reported_deflate;
    printf(",\"compressed_reply_share\":%.4f,\"deflate\":{\"server_no_context_takeover\":%s,"
           "\"client_no_context_takeover\":%s,\"server_max_window_bits\":%d,\"client_max_window_bits\":%d}",
           count > 0 ? (double)(compressed_replies - compressed_replies_at_start) / (double)count : 0,
           p->server_no_context_takeover ? "true" : "false", p->client_no_context_takeover ? "true" : "false",
           p->server_max_window_bits, p->client_max_window_bits);
  }
  if (opt.mode == MODE_LATENCY) {
    printf(",\"target_rate\":%.1f,\"sent_rate\":%.1f,\"samples\":%llu,\"p50_us\":%.2f,\"p90_us\":%.2f,"
           "\"p99_us\":%.2f,\"p999_us\":%.2f,\"max_us\":%.2f,\"max_send_lag_us\":%.2f",
           opt.rate, (double)(lat_sent_at_end - lat_sent_at_start) / seconds, (unsigned long long)lat_measured,
           percentile(0.5) / 1e3, percentile(0.9) / 1e3, percentile(0.99) / 1e3, percentile(0.999) / 1e3,
           percentile(1.0) / 1e3, (double)lat_max_lag / 1e3);
  }
  printf("}\n");
  fflush(stdout);
}

static double number_arg(const char *name, const char *value) {
  char *end;
  double parsed = strtod(value, &end);
  if (*value == 0 || *end != 0) fatal("%s needs a number, got %s", name, value);
  return parsed;
}

static void parse_args(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *name = argv[i];
    if (strcmp(name, "--text") == 0) {
      opt.text = 1;
      continue;
    }
    if (strcmp(name, "--json") == 0) {
      opt.json = opt.text = 1;
      continue;
    }
    if (strcmp(name, "--deflate") == 0) {
      opt.deflate = 1;
      continue;
    }
    if (i + 1 >= argc) fatal("%s needs a value", name);
    const char *value = argv[++i];
    if (strcmp(name, "--mode") == 0) {
      if (strcmp(value, "echo") == 0) opt.mode = MODE_ECHO;
      else if (strcmp(value, "broadcast") == 0) opt.mode = MODE_BROADCAST;
      else if (strcmp(value, "latency") == 0) opt.mode = MODE_LATENCY;
      else if (strcmp(value, "handshake") == 0) opt.mode = MODE_HANDSHAKE;
      else if (strcmp(value, "idle") == 0) opt.mode = MODE_IDLE;
      else if (strcmp(value, "flood") == 0) opt.mode = MODE_FLOOD;
      else fatal("unknown mode %s", value);
    } else if (strcmp(name, "--flood") == 0) {
      if (strcmp(value, "bad-key") == 0) opt.flood = FLOOD_BAD_KEY;
      else if (strcmp(value, "bad-origin") == 0) opt.flood = FLOOD_BAD_ORIGIN;
      else fatal("unknown flood %s (bad-key or bad-origin)", value);
    } else if (strcmp(name, "--port") == 0) opt.port = (int)number_arg(name, value);
    else if (strcmp(name, "--path") == 0) opt.path = value;
    else if (strcmp(name, "--conns") == 0) opt.conns = (int)number_arg(name, value);
    else if (strcmp(name, "--inflight") == 0) opt.inflight = (int)number_arg(name, value);
    else if (strcmp(name, "--size") == 0) opt.size = (size_t)number_arg(name, value);
    else if (strcmp(name, "--warmup") == 0) opt.warmup_s = number_arg(name, value);
    else if (strcmp(name, "--duration") == 0) opt.duration_s = number_arg(name, value);
    else if (strcmp(name, "--sources") == 0) opt.sources = (int)number_arg(name, value);
    else if (strcmp(name, "--server-pid") == 0) opt.server_pid = (int)number_arg(name, value);
    else if (strcmp(name, "--server-core") == 0) opt.server_core = (int)number_arg(name, value);
    else if (strcmp(name, "--gen-core") == 0) opt.gen_core = (int)number_arg(name, value);
    else if (strcmp(name, "--rate") == 0) opt.rate = number_arg(name, value);
    else if (strcmp(name, "--window") == 0) opt.window = (int)number_arg(name, value);
    else if (strcmp(name, "--concurrency") == 0) opt.concurrency = (int)number_arg(name, value);
    else if (strcmp(name, "--seed") == 0) opt.seed = (uint64_t)number_arg(name, value);
    else if (strcmp(name, "--origin") == 0) opt.origin = value;
    else if (strcmp(name, "--nice") == 0) opt.nice = (int)number_arg(name, value);
    else fatal("unknown option %s", name);
  }
  if (opt.port <= 0 || opt.port > 65535) fatal("--port is required");
  if (opt.conns < 1 || opt.inflight < 1 || opt.sources < 1 || opt.sources > 250 || opt.concurrency < 1) {
    fatal("--conns, --inflight, --concurrency and --sources (<= 250) must be positive");
  }
  if (opt.duration_s <= 0 || opt.warmup_s < 0) fatal("--duration must be positive and --warmup not negative");
  if (opt.mode == MODE_LATENCY && (opt.size < LATENCY_HEAD || opt.size > 120 || opt.rate <= 0)) {
    fatal("latency mode needs 16 <= --size <= 120 and a positive --rate");
  }
  if (opt.mode == MODE_BROADCAST && (opt.size < 8 || opt.size > 4096 || opt.window < 1 ||
                                     opt.window > BROADCAST_RING / 2)) {
    fatal("broadcast mode needs 8 <= --size <= 4096 and 1 <= --window <= %d", BROADCAST_RING / 2);
  }
  if (opt.size > SCRATCH_BYTES / 4) fatal("--size above %u bytes", SCRATCH_BYTES / 4);
  if (opt.deflate && opt.mode != MODE_ECHO) fatal("--deflate is for echo mode");
  if (opt.origin != NULL && (strlen(opt.origin) > 256 || strpbrk(opt.origin, "\r\n") != NULL)) {
    fatal("--origin must be one line of at most 256 characters");
  }
  if ((opt.mode == MODE_FLOOD) != (opt.flood != FLOOD_NONE)) fatal("--flood goes with --mode flood, and it needs one");
  if (opt.mode == MODE_FLOOD && opt.origin == NULL) {
    fatal("flood mode needs --origin: an allowed one for bad-key, a refused one for bad-origin");
  }
  if (strlen(opt.path) > 256 || strpbrk(opt.path, "\r\n ") != NULL) fatal("--path must be at most 256 characters, no spaces or line ends");
  if (opt.nice < 0 || opt.nice > 19) fatal("--nice must be 0 to 19");
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  /* A generator sharing its core with another (the flood beside the live connections) can yield to it,
     so the other's timings measure the server and not a wait for the core. */
  if (opt.nice > 0 && setpriority(PRIO_PROCESS, 0, opt.nice) < 0) fatal("setpriority: %s", strerror(errno));
  /* Timer wake-ups on time to the microsecond: the default 50 us slack would blur the open loop. */
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  rng_state = opt.seed * 0x9E3779B97F4A7C15ull + 1;
  scratch = malloc(SCRATCH_BYTES);
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (scratch == NULL || ep < 0) fatal("setup failed");
  prepare_handshakes();
  prepare_pool();
  if (opt.deflate && (inflated = malloc(opt.size + 1)) == NULL) fatal("out of memory for inflated replies");

  if (opt.mode == MODE_BROADCAST) {
    subscribers = opt.conns;
    nconns = opt.conns + 1;
  } else if (opt.mode == MODE_HANDSHAKE || opt.mode == MODE_FLOOD) {
    nconns = opt.concurrency;
  } else {
    nconns = opt.conns;
  }
  conns = calloc((size_t)nconns, sizeof *conns);
  if (conns == NULL) fatal("out of memory for connections");
  for (int i = 0; i < nconns; i++) {
    conns[i].id = (uint32_t)i;
    conns[i].fd = -1;
    conns[i].role = opt.mode == MODE_BROADCAST ? (i == 0 ? ROLE_PUBLISHER : ROLE_SUBSCRIBER) : ROLE_ECHO;
  }
  prepare_requests();
  if (opt.mode == MODE_FLOOD) prepare_flood_request();

  if (opt.mode == MODE_LATENCY) {
    timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event event = {.events = EPOLLIN, .data.u32 = EV_TIMER};
    if (timer_fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, timer_fd, &event) < 0) fatal("timerfd: %s", strerror(errno));
  }
  if (opt.mode == MODE_IDLE) {
    struct epoll_event event = {.events = EPOLLIN, .data.u32 = EV_STDIN};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &event) < 0) stdin_closed = 1;
  }
  run();
  if (opt.mode != MODE_IDLE) print_result();
  else printf("{\"mode\":\"idle\",\"conns\":%d}\n", nconns);
  fflush(stdout);
  return 0;
}
