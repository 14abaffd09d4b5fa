/* wse_raw_peer: the machine's limit for the side-by-side benchmarks.
 *
 * A minimal single-threaded epoll WebSocket server with no features: it does
 * the handshake (and an HS256 check of a Bearer token when --jwt-secret is
 * given), then, depending on --workload:
 *   fanout  once --subs connections are open, encodes a batch of frames once
 *           and send()s the same buffer to every socket (what a socket does not
 *           take is copied to that socket's backlog, so no message is lost),
 *           keeping at most --window messages beyond the last "A<seq>" ack in
 *           flight, optionally paced at --rate messages/s;
 *   echo    returns every text frame unmasked, one send() per read;
 *   flood   counts inbound messages into --stats;
 *   accept, ping, idle: handshake, pongs, nothing else.
 * It follows the conventions of bench/README.md and prints "READY <port>" once listening.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BACKLOG_BYTES (4u << 20) /* per connection, like the servers under test */
#define READ_BUF (256 * 1024)

typedef struct {
  int fd;
  int open;
  char *in; /* partial head or frame (only while pending) */
  size_t in_len;
  char *out; /* backlog the socket did not take */
  size_t out_len, out_cap, out_at;
  int want_out;
} conn_t;

static int ep, lfd;
static conn_t **open_conns;
static size_t n_open, cap_open;
static const char *workload = "fanout";
static size_t subs = 100, window_msgs = 64, size = 100, max_batch = 256;
static double rate = 0;
static const char *jwt_secret = NULL, *stats_path = NULL;
static int64_t acked = -1;
static uint64_t next_seq = 0, inbound = 0, dropped_conns = 0;
static char rbuf[READ_BUF];
static volatile sig_atomic_t stop_flag = 0;

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void on_signal(int s) {
  (void)s;
  stop_flag = 1;
}

static void close_conn(conn_t *c) {
  if (c->open) {
    for (size_t i = 0; i < n_open; ++i)
      if (open_conns[i] == c) {
        open_conns[i] = open_conns[--n_open];
        break;
      }
  }
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->in);
  free(c->out);
  free(c);
}

static void arm(conn_t *c, int out) {
  if (c->want_out == out) return;
  c->want_out = out;
  struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Sends, keeping what the socket refuses; returns -1 if the connection was dropped. */
static int send_or_keep(conn_t *c, const char *p, size_t n) {
  size_t done = 0;
  if (c->out_len == c->out_at) {
    ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      close_conn(c);
      return -1;
    }
    done = w > 0 ? (size_t)w : 0;
    if (done == n) return 0;
  }
  size_t rest = n - done;
  if (c->out_len - c->out_at + rest > MAX_BACKLOG_BYTES) {
    ++dropped_conns;
    close_conn(c);
    return -1;
  }
  if (c->out_len + rest > c->out_cap) {
    if (c->out_at > 0) {
      memmove(c->out, c->out + c->out_at, c->out_len - c->out_at);
      c->out_len -= c->out_at;
      c->out_at = 0;
    }
    while (c->out_len + rest > c->out_cap) c->out_cap = c->out_cap ? c->out_cap * 2 : 65536;
    c->out = realloc(c->out, c->out_cap);
  }
  memcpy(c->out + c->out_len, p + done, rest);
  c->out_len += rest;
  arm(c, 1);
  return 0;
}

static void flush_out(conn_t *c) {
  while (c->out_at < c->out_len) {
    ssize_t w = send(c->fd, c->out + c->out_at, c->out_len - c->out_at, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      close_conn(c);
      return;
    }
    c->out_at += (size_t)w;
  }
  c->out_at = c->out_len = 0;
  arm(c, 0);
}

static size_t frame_header(char *h, int op, size_t n) {
  h[0] = (char)(0x80 | op);
  if (n < 126) {
    h[1] = (char)n;
    return 2;
  }
  if (n < 65536) {
    h[1] = 126;
    h[2] = (char)(n >> 8);
    h[3] = (char)(n & 0xFF);
    return 4;
  }
  h[1] = 127;
  for (int i = 0; i < 8; ++i) h[2 + i] = (char)(((uint64_t)n >> (56 - 8 * i)) & 0xFF);
  return 10;
}

static size_t b64url_decode(const char *s, size_t n, unsigned char *out) {
  size_t o = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    int v;
    char ch = s[i];
    if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
    else if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
    else if (ch == '-') v = 62;
    else if (ch == '_') v = 63;
    else return (size_t)-1;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (unsigned char)((acc >> bits) & 0xFF);
    }
  }
  return o;
}

/* HS256 signature and exp of a compact JWT. */
static int jwt_ok(const char *tok, size_t n) {
  const char *d1 = memchr(tok, '.', n);
  if (!d1) return 0;
  const char *d2 = memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - tok));
  if (!d2) return 0;
  unsigned char mac[32], sig[64], payload[2048];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), jwt_secret, (int)strlen(jwt_secret), (const unsigned char *)tok, (size_t)(d2 - tok), mac,
       &mac_len);
  size_t sig_n = (size_t)(tok + n - d2 - 1);
  if (sig_n > 86) return 0;
  size_t got = b64url_decode(d2 + 1, sig_n, sig);
  if (got != 32 || CRYPTO_memcmp(mac, sig, 32) != 0) return 0;
  size_t pn = (size_t)(d2 - d1 - 1);
  if (pn > 2000) return 0;
  size_t pl = b64url_decode(d1 + 1, pn, payload);
  if (pl == (size_t)-1) return 0;
  payload[pl] = 0;
  const char *exp = strstr((const char *)payload, "\"exp\":");
  if (exp && strtoll(exp + 6, NULL, 10) < (long long)time(NULL)) return 0;
  return strstr((const char *)payload, "\"sub\":") != NULL;
}

static void add_open(conn_t *c) {
  if (n_open == cap_open) {
    cap_open = cap_open ? cap_open * 2 : 1024;
    open_conns = realloc(open_conns, cap_open * sizeof *open_conns);
  }
  open_conns[n_open++] = c;
  c->open = 1;
}

/* Returns bytes consumed, 0 if more are needed, -1 if the connection was dropped. */
static long handle_head(conn_t *c, char *p, size_t n) {
  char *end = memmem(p, n, "\r\n\r\n", 4);
  if (!end) return n > 8192 ? (close_conn(c), -1) : 0;
  *end = 0;
  char *key = strcasestr(p, "\r\nSec-WebSocket-Key:");
  if (!key) {
    close_conn(c);
    return -1;
  }
  key += 20;
  while (*key == ' ') ++key;
  size_t kl = strcspn(key, "\r\n ");
  if (jwt_secret) {
    char *auth = strcasestr(p, "\r\nAuthorization: Bearer ");
    int ok = 0;
    if (auth) {
      auth += 24;
      ok = jwt_ok(auth, strcspn(auth, "\r\n "));
    }
    if (!ok) {
      static const char r401[] = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      send(c->fd, r401, sizeof r401 - 1, MSG_NOSIGNAL);
      close_conn(c);
      return -1;
    }
  }
  char cat[128];
  memcpy(cat, key, kl);
  memcpy(cat + kl, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 36);
  unsigned char digest[20];
  SHA1((unsigned char *)cat, kl + 36, digest);
  char accept[32];
  EVP_EncodeBlock((unsigned char *)accept, digest, 20);
  char resp[256];
  int rl = snprintf(resp, sizeof resp,
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: %s\r\n\r\n",
                    accept);
  static const char ready[] = "{\"t\":\"server_ready\"}";
  rl += (int)frame_header(resp + rl, 1, sizeof ready - 1);
  memcpy(resp + rl, ready, sizeof ready - 1);
  rl += (int)(sizeof ready - 1);
  if (send_or_keep(c, resp, (size_t)rl) < 0) return -1;
  add_open(c);
  return (long)(end + 4 - p);
}

/* Parses masked client frames; returns bytes consumed or -1 if dropped. */
static long handle_frames(conn_t *c, char *p, size_t n) {
  size_t pos = 0;
  char reply[READ_BUF + 64];
  size_t rl = 0;
  while (n - pos >= 6) {
    unsigned char b0 = (unsigned char)p[pos], b1 = (unsigned char)p[pos + 1];
    size_t len = b1 & 0x7F, h = 2;
    if (len == 126) {
      if (n - pos < 8) break;
      len = ((size_t)(unsigned char)p[pos + 2] << 8) | (unsigned char)p[pos + 3];
      h = 4;
    } else if (len == 127) {
      if (n - pos < 14) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | (unsigned char)p[pos + 2 + i];
      h = 10;
    }
    if (!(b1 & 0x80) || len > (1u << 20)) {
      close_conn(c);
      return -1;
    }
    if (n - pos < h + 4 + len) break;
    unsigned char *m = (unsigned char *)p + pos + h;
    char *d = p + pos + h + 4;
    for (size_t i = 0; i < len; ++i) d[i] = (char)(d[i] ^ m[i & 3]);
    int op = b0 & 0x0F;
    pos += h + 4 + len;
    ++inbound;
    if (workload[0] == 'f' && workload[1] == 'l' && op == 1 && inbound % 4096 == 0) {
      char ack[32];
      int al = snprintf(ack, sizeof ack, "A%llu", (unsigned long long)inbound);
      rl += frame_header(reply + rl, 1, (size_t)al);
      memcpy(reply + rl, ack, (size_t)al);
      rl += (size_t)al;
    }
    if (op == 8) {
      char cl[4] = {(char)0x88, 0};
      send(c->fd, cl, 2, MSG_NOSIGNAL);
      close_conn(c);
      return -1;
    }
    if (op == 9) { /* ping -> pong */
      rl += frame_header(reply + rl, 10, len);
      memcpy(reply + rl, d, len);
      rl += len;
    } else if (op == 1 && len > 1 && d[0] == 'A' && workload[0] == 'f') {
      /* The digits of this payload only: the bytes after it are the next frame or stale. */
      int64_t s = 0;
      for (size_t i = 1; i < len && d[i] >= '0' && d[i] <= '9'; ++i) s = s * 10 + (d[i] - '0');
      if (s > acked) acked = s;
    } else if (op == 1 && workload[0] == 'e' && rl + len + 10 < sizeof reply) {
      rl += frame_header(reply + rl, 1, len);
      memcpy(reply + rl, d, len);
      rl += len;
    }
  }
  if (rl > 0 && send_or_keep(c, reply, rl) < 0) return -1;
  return (long)pos;
}

static void on_readable(conn_t *c) {
  for (int round = 0; round < 4; ++round) {
    ssize_t r = recv(c->fd, rbuf, sizeof rbuf, 0);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      close_conn(c);
      return;
    }
    if (r < 0) return;
    char *p = rbuf;
    size_t n = (size_t)r;
    if (c->in_len > 0) {
      c->in = realloc(c->in, c->in_len + n);
      memcpy(c->in + c->in_len, rbuf, n);
      p = c->in;
      n = c->in_len + n;
    }
    size_t pos = 0;
    if (!c->open) {
      long used = handle_head(c, p, n);
      if (used < 0) return;
      pos = (size_t)used;
    }
    if (c->open && pos < n) {
      long used = handle_frames(c, p + pos, n - pos);
      if (used < 0) return;
      pos += (size_t)used;
    }
    size_t left = n - pos;
    if (left == 0) {
      free(c->in);
      c->in = NULL;
      c->in_len = 0;
    } else if (p == c->in) {
      memmove(c->in, c->in + pos, left);
      c->in_len = left;
    } else {
      c->in = malloc(left);
      memcpy(c->in, p + pos, left);
      c->in_len = left;
    }
    if ((size_t)r < sizeof rbuf) return;
  }
}

/* One batch of `k` frames built once, then the same bytes to every subscriber. */
static void publish_batch(size_t k) {
  static char *batch = NULL;
  static size_t batch_cap = 0;
  size_t pad = size > 57 ? size - 57 : 1;
  size_t need = k * (size + 64);
  if (need > batch_cap) {
    batch_cap = need;
    batch = realloc(batch, batch_cap);
  }
  size_t bl = 0;
  char text[4096];
  char pads[2048];
  if (pad > sizeof pads - 1) pad = sizeof pads - 1;
  memset(pads, 'x', pad);
  pads[pad] = 0;
  uint64_t ts = mono_ns();
  for (size_t i = 0; i < k; ++i) {
    int tl = snprintf(text, sizeof text, "{\"t\":\"bench\",\"seq\":%llu,\"ts\":%llu,\"p\":\"%s\"}",
                      (unsigned long long)next_seq++, (unsigned long long)ts, pads);
    bl += frame_header(batch + bl, 1, (size_t)tl);
    memcpy(batch + bl, text, (size_t)tl);
    bl += (size_t)tl;
  }
  /* Iterate backwards: close_conn swap-removes from open_conns. */
  for (size_t i = n_open; i-- > 0;) send_or_keep(open_conns[i], batch, bl);
}

static void write_stats(void) {
  if (!stats_path) return;
  FILE *f = fopen(stats_path, "a");
  if (!f) return;
  fprintf(f, "%llu %llu\n", (unsigned long long)mono_ns(), (unsigned long long)inbound);
  fclose(f);
}

int main(int argc, char **argv) {
  int port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--port")) port = atoi(v);
    else if (!strcmp(k, "--workload")) workload = v;
    else if (!strcmp(k, "--subs")) subs = (size_t)atol(v);
    else if (!strcmp(k, "--window")) window_msgs = (size_t)atol(v);
    else if (!strcmp(k, "--size")) size = (size_t)atol(v);
    else if (!strcmp(k, "--rate")) rate = atof(v);
    else if (!strcmp(k, "--batch")) max_batch = (size_t)atol(v);
    else if (!strcmp(k, "--jwt-secret")) jwt_secret = v;
    else if (!strcmp(k, "--stats")) stats_path = v;
    else if (!strcmp(k, "--max-connections")) continue; /* no limit here */
    else {
      fprintf(stderr, "wse_raw_peer: unknown option %s\n", k);
      return 2;
    }
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGPIPE, SIG_IGN);
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 4096) < 0) {
    perror("wse_raw_peer: bind/listen");
    return 1;
  }
  socklen_t al = sizeof a;
  getsockname(lfd, (struct sockaddr *)&a, &al);
  ep = epoll_create1(0);
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
  printf("READY %d\n", ntohs(a.sin_port));
  fflush(stdout);

  int fanout = !strcmp(workload, "fanout");
  uint64_t started = 0, published_paced = 0, last_stats = 0;
  struct epoll_event evs[512];
  while (!stop_flag) {
    int64_t in_flight = (int64_t)next_seq - acked - 1;
    int can_publish = fanout && n_open >= subs && in_flight < (int64_t)window_msgs &&
                      (rate > 0 || in_flight == 0 || in_flight <= (int64_t)(window_msgs - window_msgs / 2));
    if (can_publish && rate > 0 && started != 0)
      can_publish = (uint64_t)((double)(mono_ns() - started) * rate / 1e9) > published_paced;
    int n = epoll_wait(ep, evs, 512, can_publish ? 0 : 1);
    for (int i = 0; i < n; ++i) {
      conn_t *c = evs[i].data.ptr;
      if (c == NULL) {
        for (;;) {
          int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
          if (fd < 0) break;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conn_t *nc = calloc(1, sizeof *nc);
          nc->fd = fd;
          struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        }
        continue;
      }
      if (evs[i].events & EPOLLOUT) {
        flush_out(c);
        continue; /* EPOLLIN is reported again next round if still pending */
      }
      if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c);
    }
    uint64_t now = mono_ns();
    if (stats_path && now - last_stats > 100000000ull) {
      last_stats = now;
      write_stats();
    }
    if (fanout && n_open >= subs) {
      if (started == 0) started = now;
      int64_t credit = (int64_t)window_msgs - ((int64_t)next_seq - acked - 1);
      if (credit <= 0) continue;
      /* Without pacing, wait for half the window: one batch per socket write is what
       * makes the limit (acks arrive in small steps, a batch per step would not). */
      if (rate <= 0 && credit < (int64_t)(window_msgs / 2) && (int64_t)next_seq - acked - 1 > 0) continue;
      size_t k = (size_t)credit < max_batch ? (size_t)credit : max_batch;
      if (rate > 0) {
        uint64_t due = (uint64_t)((double)(now - started) * rate / 1e9);
        if (due <= published_paced) continue;
        if (due - published_paced < k) k = (size_t)(due - published_paced);
        published_paced += k;
      }
      publish_batch(k);
    }
  }
  fprintf(stderr, "wse_raw_peer: published %llu, inbound %llu, dropped connections %llu\n",
          (unsigned long long)next_seq, (unsigned long long)inbound, (unsigned long long)dropped_conns);
  return 0;
}
