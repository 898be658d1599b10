/* The native RTP relay core: receive, check, rewrite and send bridged G.711 legs in C.
 *
 * Python keeps the control (SIP, SDP, notice playback, hold, transfer, transcoding); once a
 * call's two legs are bridged with the same G.711 codec, both sockets are handed to one
 * Core.  The Core is an epoll set whose descriptor the event loop watches; when it is
 * readable the loop calls Core.pump() straight (no Python frame), which drains every ready
 * socket with recvmmsg, rewrites each header in place into the far leg's stream (the same
 * sequence/timestamp/SSRC algorithm as MediaLeg.forward), sends each batch with one
 * sendmmsg, and decodes the audio into per-leg chunks for the recording: consecutive packets
 * of one stream are merged, so the recording gets about one chunk per leg per flush instead
 * of one Python call per packet.  Everything runs on the event loop's thread with the GIL
 * held: no locks, no second thread, and the hand-over back to Python (Core.remove) returns
 * the whole stream state so the Python path continues exactly where C stopped.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32
#define BUFSZ 2048
#define ROUNDS 4
#define MAXEV 256
#define REANCHOR_LATE 0.25
#define REANCHOR_EARLY 0.04

typedef struct chunk {
    struct chunk *next;
    double at;
    uint32_t end_ts, ssrc, anchor;
    Py_ssize_t n, cap; /* samples */
    int16_t *pcm;
} chunk_t;

typedef struct {
    int fd, peer;
    int audio_pt, event_pt; /* event_pt < 0: none */
    int16_t table[256];
    int capture;
    struct sockaddr_storage addr; /* where we send; the latched source */
    socklen_t addrlen;
    int has_addr;
    int expect_family;
    unsigned char expect_ip[16];
    int has_expect, latch_any, latched, blocked;
    /* this leg as a destination */
    uint32_t out_ssrc, out_seq, out_ts;
    double out_time;
    int has_out_time;
    int has_src;
    uint32_t src_ssrc, src_seq_off, src_ts0, out_ts0;
    int clock;
    /* receive-side timestamp anchor */
    int64_t rx_ssrc;
    uint32_t rx_ts0;
    double rx_t0;
    uint32_t anchor_gen;
    chunk_t *head, *tail;
    unsigned long long packets_in, bytes_in, packets_out, invalid, wrong_source, unknown_pt, rtcp,
        send_errors;
    double last_rx;
    int has_last_rx;
} leg_t;

typedef struct {
    PyObject_HEAD int epfd;
    leg_t **legs; /* indexed by descriptor */
    int nlegs;
    int count;
    unsigned char bufs[BATCH][BUFSZ];
    struct mmsghdr rmsg[BATCH];
    struct iovec riov[BATCH];
    struct sockaddr_storage rname[BATCH];
    struct mmsghdr smsg[BATCH];
    struct iovec siov[BATCH];
} Core;

static double monotonic(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static leg_t *find(Core *self, int fd) {
    if (fd < 0 || fd >= self->nlegs) return NULL;
    return self->legs[fd];
}

static void free_chunks(leg_t *L) {
    chunk_t *c = L->head;
    while (c) {
        chunk_t *n = c->next;
        PyMem_Free(c->pcm);
        PyMem_Free(c);
        c = n;
    }
    L->head = L->tail = NULL;
}

/* -- addresses ------------------------------------------------------------------------- */
static int parse_addr(PyObject *obj, struct sockaddr_storage *out, socklen_t *len) {
    const char *host;
    int port;
    unsigned int flow = 0, scope = 0;
    if (!PyArg_ParseTuple(obj, "si|II", &host, &port, &flow, &scope)) return -1;
    memset(out, 0, sizeof(*out));
    struct sockaddr_in *a4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *len = sizeof(*a4);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        a6->sin6_flowinfo = htonl(flow);
        a6->sin6_scope_id = scope;
        *len = sizeof(*a6);
        return 0;
    }
    PyErr_Format(PyExc_ValueError, "not a numeric address: %s", host);
    return -1;
}

static PyObject *addr_tuple(const struct sockaddr_storage *ss) {
    char host[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        return Py_BuildValue("(si)", host, (int)ntohs(a->sin_port));
    }
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
    return Py_BuildValue("(siII)", host, (int)ntohs(a->sin6_port), ntohl(a->sin6_flowinfo),
                         a->sin6_scope_id);
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
    if (a->ss_family != b->ss_family) return 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
}

static int same_ip(const leg_t *L, const struct sockaddr_storage *a) {
    if (!L->has_expect || a->ss_family != L->expect_family) return 0;
    if (a->ss_family == AF_INET)
        return !memcmp(&((const struct sockaddr_in *)a)->sin_addr, L->expect_ip, 4);
    return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, L->expect_ip, 16);
}

static void set_expect(leg_t *L, const struct sockaddr_storage *a) {
    L->expect_family = a->ss_family;
    L->has_expect = 1;
    if (a->ss_family == AF_INET)
        memcpy(L->expect_ip, &((const struct sockaddr_in *)a)->sin_addr, 4);
    else
        memcpy(L->expect_ip, &((const struct sockaddr_in6 *)a)->sin6_addr, 16);
}

static PyObject *expect_str(const leg_t *L) {
    char host[INET6_ADDRSTRLEN];
    if (!L->has_expect) Py_RETURN_NONE;
    inet_ntop(L->expect_family, L->expect_ip, host, sizeof(host));
    return PyUnicode_FromString(host);
}

/* -- the per-packet path ------------------------------------------------------------------ */
static double rx_time(leg_t *L, uint32_t ts, uint32_t ssrc, double now) {
    if ((int64_t)ssrc != L->rx_ssrc) {
        L->rx_ssrc = ssrc;
        L->rx_ts0 = ts;
        L->rx_t0 = now;
        L->anchor_gen++;
        return now;
    }
    int64_t delta = (int64_t)(uint32_t)(ts - L->rx_ts0);
    if (delta >= 0x80000000LL) delta -= 0x100000000LL;
    double at = L->rx_t0 + (double)delta / L->clock;
    double lag = now - at;
    if (lag < -REANCHOR_EARLY || lag > REANCHOR_LATE) {
        L->rx_ts0 = ts;
        L->rx_t0 = now;
        L->anchor_gen++;
        return now;
    }
    return at;
}

static void capture(leg_t *L, const unsigned char *p, Py_ssize_t n, uint32_t ts, uint32_t ssrc,
                    double now) {
    double at = rx_time(L, ts, ssrc, now);
    chunk_t *c = L->tail;
    if (!(c && c->ssrc == ssrc && c->anchor == L->anchor_gen && c->end_ts == ts)) {
        c = PyMem_Calloc(1, sizeof(chunk_t));
        if (!c) return;
        c->at = at;
        c->ssrc = ssrc;
        c->anchor = L->anchor_gen;
        c->end_ts = ts;
        if (L->tail)
            L->tail->next = c;
        else
            L->head = c;
        L->tail = c;
    }
    if (c->n + n > c->cap) {
        Py_ssize_t cap = c->cap ? c->cap * 2 : 1024;
        while (cap < c->n + n) cap *= 2;
        int16_t *pcm = PyMem_Realloc(c->pcm, (size_t)cap * sizeof(int16_t));
        if (!pcm) return;
        c->pcm = pcm;
        c->cap = cap;
    }
    int16_t *out = c->pcm + c->n;
    for (Py_ssize_t i = 0; i < n; i++) out[i] = L->table[p[i]];
    c->n += n;
    c->end_ts = ts + (uint32_t)n;
}

/* Rewrite a packet into D's outgoing stream; 0 when D is not sending. */
static int rewrite(leg_t *D, unsigned char *buf, int marker, int pt, uint32_t seq, uint32_t ts,
                   uint32_t ssrc, double now) {
    if (!D->has_addr || D->blocked) return 0;
    if (!D->has_src || D->src_ssrc != ssrc) {
        D->has_src = 1;
        D->src_ssrc = ssrc;
        long long gap = D->has_out_time ? llround((now - D->out_time) * D->clock) : 0;
        D->src_seq_off = (D->out_seq + 1 - seq) & 0xFFFF;
        D->src_ts0 = ts;
        D->out_ts0 = (uint32_t)(D->out_ts + (uint32_t)(gap > 1 ? gap : 1));
        marker = 1;
    }
    uint32_t out_seq = (seq + D->src_seq_off) & 0xFFFF;
    uint32_t out_ts = D->out_ts0 + (uint32_t)(ts - D->src_ts0);
    if (((out_seq - D->out_seq) & 0xFFFF) < 0x8000) {
        D->out_seq = out_seq;
        D->out_ts = out_ts;
        D->out_time = now;
        D->has_out_time = 1;
    }
    buf[1] = (unsigned char)((marker ? 0x80 : 0) | pt);
    buf[2] = (unsigned char)(out_seq >> 8);
    buf[3] = (unsigned char)out_seq;
    buf[4] = (unsigned char)(out_ts >> 24);
    buf[5] = (unsigned char)(out_ts >> 16);
    buf[6] = (unsigned char)(out_ts >> 8);
    buf[7] = (unsigned char)out_ts;
    buf[8] = (unsigned char)(D->out_ssrc >> 24);
    buf[9] = (unsigned char)(D->out_ssrc >> 16);
    buf[10] = (unsigned char)(D->out_ssrc >> 8);
    buf[11] = (unsigned char)D->out_ssrc;
    return 1;
}

/* One packet from L: 1 when it is to be sent to D (rewritten in place). */
static int packet(leg_t *L, leg_t *D, unsigned char *buf, Py_ssize_t len,
                  const struct sockaddr_storage *from, double now) {
    L->packets_in++;
    L->bytes_in += (unsigned long long)len;
    int b0 = len > 0 ? buf[0] : 0, b1 = len > 1 ? buf[1] : 0;
    int rtcp_like = len >= 8 && (b0 >> 6) == 2 && b1 >= 192 && b1 <= 223;
    if (len < 12 || (b0 >> 6) != 2 || (b1 >= 192 && b1 <= 223)) {
        if (rtcp_like)
            L->rtcp++;
        else
            L->invalid++;
        return 0;
    }
    Py_ssize_t start = 12 + ((b0 & 0x0F) << 2), end = len;
    if (b0 & 0x10) {
        if (len < start + 4) {
            L->invalid++;
            return 0;
        }
        start += 4 + (((Py_ssize_t)buf[start + 2] << 8 | buf[start + 3]) << 2);
    }
    if (b0 & 0x20) {
        if (!buf[len - 1]) {
            L->invalid++;
            return 0;
        }
        end -= buf[len - 1];
    }
    if (end < start) {
        L->invalid++;
        return 0;
    }
    if (!(L->has_addr && same_addr(from, &L->addr))) {
        /* symmetric RTP: follow the source port of the negotiated IP (or latch once) */
        if (!same_ip(L, from)) {
            if (!L->latch_any || L->latched) {
                L->wrong_source++;
                return 0;
            }
            set_expect(L, from);
        }
        L->latched = 1;
        memcpy(&L->addr, from, sizeof(*from));
        L->addrlen = from->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
        L->has_addr = 1;
    }
    L->last_rx = now;
    L->has_last_rx = 1;
    int marker = b1 >> 7, pt = b1 & 0x7F;
    uint32_t seq = (uint32_t)buf[2] << 8 | buf[3];
    uint32_t ts = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
    uint32_t ssrc = (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 | (uint32_t)buf[10] << 8 | buf[11];
    if (pt == L->audio_pt) {
        if (L->capture) capture(L, buf + start, end - start, ts, ssrc, now);
        return D ? rewrite(D, buf, marker, D->audio_pt, seq, ts, ssrc, now) : 0;
    }
    if (L->event_pt >= 0 && pt == L->event_pt) {
        if (D && D->event_pt >= 0) return rewrite(D, buf, marker, D->event_pt, seq, ts, ssrc, now);
        return 0;
    }
    L->unknown_pt++;
    return 0;
}

static void service(Core *self, leg_t *L) {
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < BATCH; i++) {
            self->rmsg[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
            self->riov[i].iov_len = BUFSZ;
        }
        int n = recvmmsg(L->fd, self->rmsg, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) return;
        double now = monotonic();
        leg_t *D = find(self, L->peer);
        int k = 0;
        for (int i = 0; i < n; i++) {
            unsigned char *buf = self->bufs[i];
            Py_ssize_t len = self->rmsg[i].msg_len;
            if (packet(L, D, buf, len, &self->rname[i], now)) {
                self->siov[k].iov_base = buf;
                self->siov[k].iov_len = (size_t)len;
                self->smsg[k].msg_hdr.msg_name = &D->addr;
                self->smsg[k].msg_hdr.msg_namelen = D->addrlen;
                k++;
            }
        }
        if (k) {
            int sent = 0;
            while (sent < k) {
                int r = sendmmsg(D->fd, self->smsg + sent, (unsigned)(k - sent), MSG_DONTWAIT);
                if (r <= 0) {
                    /* buffer full or the far end gone: a late packet is worth nothing, drop it */
                    D->send_errors += (unsigned long long)(k - sent);
                    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && sent + 1 < k) {
                        sent++; /* skip the one that failed (an ICMP error) and try the rest */
                        D->send_errors--;
                        continue;
                    }
                    break;
                }
                D->packets_out += (unsigned long long)r;
                sent += r;
            }
        }
        if (n < BATCH) return;
    }
}

/* -- Python interface -------------------------------------------------------------------- */
static PyObject *Core_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    if (!PyArg_ParseTuple(args, "")) return NULL;
    Core *self = (Core *)type->tp_alloc(type, 0);
    if (!self) return NULL;
    self->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (self->epfd < 0) {
        Py_DECREF(self);
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    for (int i = 0; i < BATCH; i++) {
        self->riov[i].iov_base = self->bufs[i];
        self->riov[i].iov_len = BUFSZ;
        self->rmsg[i].msg_hdr.msg_iov = &self->riov[i];
        self->rmsg[i].msg_hdr.msg_iovlen = 1;
        self->rmsg[i].msg_hdr.msg_name = &self->rname[i];
        self->smsg[i].msg_hdr.msg_iov = &self->siov[i];
        self->smsg[i].msg_hdr.msg_iovlen = 1;
    }
    return (PyObject *)self;
}

static void Core_dealloc(Core *self) {
    for (int i = 0; i < self->nlegs; i++) {
        if (self->legs[i]) {
            free_chunks(self->legs[i]);
            PyMem_Free(self->legs[i]);
        }
    }
    PyMem_Free(self->legs);
    if (self->epfd >= 0) close(self->epfd);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Core_fileno(Core *self, PyObject *unused) { return PyLong_FromLong(self->epfd); }

static PyObject *Core_len(Core *self, PyObject *unused) { return PyLong_FromLong(self->count); }

static const char *ADD_KW[] = {"fd", "peer", "audio_pt", "event_pt", "table", "capture", "addr",
                               "expect_ip", "latch_any", "latched", "blocked", "out_ssrc", "out_seq",
                               "out_ts", "out_time", "src_ssrc", "src_seq_off", "src_ts0", "out_ts0",
                               "clock", "rx_ssrc", "rx_ts0", "rx_t0", NULL};

static PyObject *Core_add(Core *self, PyObject *args, PyObject *kw) {
    int fd, peer, audio_pt, event_pt, capture_on, latch_any, latched, blocked, clock;
    Py_buffer table;
    PyObject *addr, *expect, *out_time, *src_ssrc;
    unsigned int out_ssrc, out_seq, out_ts, src_seq_off, src_ts0, out_ts0, rx_ts0;
    long long rx_ssrc;
    double rx_t0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "iiiiy*pOOpppIIIOOIIIiLId", (char **)ADD_KW, &fd,
                                     &peer, &audio_pt, &event_pt, &table, &capture_on, &addr, &expect,
                                     &latch_any, &latched, &blocked, &out_ssrc, &out_seq, &out_ts,
                                     &out_time, &src_ssrc, &src_seq_off, &src_ts0, &out_ts0, &clock,
                                     &rx_ssrc, &rx_ts0, &rx_t0))
        return NULL;
    leg_t *L = NULL;
    if (table.len != 512) {
        PyErr_SetString(PyExc_ValueError, "table must be 256 little-endian int16 samples");
        goto fail;
    }
    if (fd < 0 || clock <= 0 || find(self, fd)) {
        PyErr_Format(PyExc_ValueError, "descriptor %d is not valid or already in the core", fd);
        goto fail;
    }
    L = PyMem_Calloc(1, sizeof(leg_t));
    if (!L) {
        PyErr_NoMemory();
        goto fail;
    }
    L->fd = fd;
    L->peer = peer;
    L->audio_pt = audio_pt;
    L->event_pt = event_pt;
    const unsigned char *t = table.buf;
    for (int i = 0; i < 256; i++) L->table[i] = (int16_t)(uint16_t)(t[2 * i] | t[2 * i + 1] << 8);
    L->capture = capture_on;
    if (addr != Py_None) {
        if (parse_addr(addr, &L->addr, &L->addrlen) < 0) goto fail;
        L->has_addr = 1;
    }
    if (expect != Py_None) {
        struct sockaddr_storage e;
        socklen_t elen;
        PyObject *tup = Py_BuildValue("(Oi)", expect, 0);
        if (!tup) goto fail;
        int r = parse_addr(tup, &e, &elen);
        Py_DECREF(tup);
        if (r < 0) goto fail;
        set_expect(L, &e);
    }
    L->latch_any = latch_any;
    L->latched = latched;
    L->blocked = blocked;
    L->out_ssrc = out_ssrc;
    L->out_seq = out_seq & 0xFFFF;
    L->out_ts = out_ts;
    if (out_time != Py_None) {
        L->out_time = PyFloat_AsDouble(out_time);
        if (PyErr_Occurred()) goto fail;
        L->has_out_time = 1;
    }
    if (src_ssrc != Py_None) {
        L->src_ssrc = (uint32_t)PyLong_AsUnsignedLongMask(src_ssrc);
        if (PyErr_Occurred()) goto fail;
        L->has_src = 1;
    }
    L->src_seq_off = src_seq_off & 0xFFFF;
    L->src_ts0 = src_ts0;
    L->out_ts0 = out_ts0;
    L->clock = clock;
    L->rx_ssrc = rx_ssrc;
    L->rx_ts0 = rx_ts0;
    L->rx_t0 = rx_t0;
    if (fd >= self->nlegs) {
        int n = self->nlegs ? self->nlegs : 64;
        while (n <= fd) n *= 2;
        leg_t **legs = PyMem_Realloc(self->legs, (size_t)n * sizeof(leg_t *));
        if (!legs) {
            PyErr_NoMemory();
            goto fail;
        }
        memset(legs + self->nlegs, 0, (size_t)(n - self->nlegs) * sizeof(leg_t *));
        self->legs = legs;
        self->nlegs = n;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(self->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        goto fail;
    }
    self->legs[fd] = L;
    self->count++;
    PyBuffer_Release(&table);
    Py_RETURN_NONE;
fail:
    PyMem_Free(L);
    PyBuffer_Release(&table);
    return NULL;
}

static PyObject *chunks_list(leg_t *L) {
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    for (chunk_t *c = L->head; c; c = c->next) {
        PyObject *item = Py_BuildValue("(dy#)", c->at, (const char *)c->pcm, c->n * 2);
        if (!item || PyList_Append(out, item) < 0) {
            Py_XDECREF(item);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(item);
    }
    free_chunks(L);
    return out;
}

static leg_t *leg_arg(Core *self, PyObject *args) {
    int fd;
    if (!PyArg_ParseTuple(args, "i", &fd)) return NULL;
    leg_t *L = find(self, fd);
    if (!L) PyErr_Format(PyExc_KeyError, "descriptor %d is not in the core", fd);
    return L;
}

static PyObject *Core_drain(Core *self, PyObject *args) {
    leg_t *L = leg_arg(self, args);
    return L ? chunks_list(L) : NULL;
}

static PyObject *take_stats(leg_t *L) {
    PyObject *last = L->has_last_rx ? PyFloat_FromDouble(L->last_rx) : Py_NewRef(Py_None);
    PyObject *r = Py_BuildValue("{sKsKsKsKsKsKsKsKsN}", "packets_in", L->packets_in, "bytes_in",
                                L->bytes_in, "packets_out", L->packets_out, "invalid", L->invalid,
                                "wrong_source", L->wrong_source, "unknown_pt", L->unknown_pt, "rtcp",
                                L->rtcp, "send_errors", L->send_errors, "last_rx", last);
    if (r) {
        L->packets_in = L->bytes_in = L->packets_out = L->invalid = 0;
        L->wrong_source = L->unknown_pt = L->rtcp = L->send_errors = 0;
        L->has_last_rx = 0;
    }
    return r;
}

static PyObject *Core_stats(Core *self, PyObject *args) {
    leg_t *L = leg_arg(self, args);
    return L ? take_stats(L) : NULL;
}

static PyObject *state_dict(leg_t *L) {
    PyObject *addr = L->has_addr ? addr_tuple(&L->addr) : Py_NewRef(Py_None);
    PyObject *expect = expect_str(L);
    PyObject *out_time = L->has_out_time ? PyFloat_FromDouble(L->out_time) : Py_NewRef(Py_None);
    PyObject *src = L->has_src ? PyLong_FromUnsignedLong(L->src_ssrc) : Py_NewRef(Py_None);
    if (!addr || !expect || !out_time || !src) {
        Py_XDECREF(addr);
        Py_XDECREF(expect);
        Py_XDECREF(out_time);
        Py_XDECREF(src);
        return NULL;
    }
    return Py_BuildValue("{sNsNsisIsIsNsNsIsIsIsLsIsd}", "addr", addr, "expect_ip", expect, "latched",
                         L->latched, "out_seq", L->out_seq, "out_ts", L->out_ts, "out_time",
                         out_time, "src_ssrc", src, "src_seq_off", L->src_seq_off, "src_ts0",
                         L->src_ts0, "out_ts0", L->out_ts0, "rx_ssrc", (long long)L->rx_ssrc,
                         "rx_ts0", L->rx_ts0, "rx_t0", L->rx_t0);
}

static PyObject *Core_state(Core *self, PyObject *args) {
    leg_t *L = leg_arg(self, args);
    return L ? state_dict(L) : NULL;
}

static PyObject *Core_remove(Core *self, PyObject *args) {
    leg_t *L = leg_arg(self, args);
    if (!L) return NULL;
    PyObject *state = state_dict(L);
    PyObject *stats = state ? take_stats(L) : NULL;
    PyObject *chunks = stats ? chunks_list(L) : NULL;
    if (!chunks) {
        Py_XDECREF(state);
        Py_XDECREF(stats);
        return NULL;
    }
    epoll_ctl(self->epfd, EPOLL_CTL_DEL, L->fd, NULL); /* fails harmlessly if already closed */
    self->legs[L->fd] = NULL;
    self->count--;
    free_chunks(L);
    PyMem_Free(L);
    return Py_BuildValue("(NNN)", state, stats, chunks);
}

static PyObject *Core_pump(Core *self, PyObject *unused) {
    struct epoll_event evs[MAXEV];
    int n = epoll_wait(self->epfd, evs, MAXEV, 0);
    for (int i = 0; i < n; i++) {
        leg_t *L = find(self, evs[i].data.fd);
        if (L) service(self, L);
    }
    return PyLong_FromLong(n < 0 ? 0 : n);
}

static PyMethodDef Core_methods[] = {
    {"fileno", (PyCFunction)Core_fileno, METH_NOARGS, "The epoll descriptor the event loop watches."},
    {"count", (PyCFunction)Core_len, METH_NOARGS, "How many legs the core relays."},
    {"add", (PyCFunction)(void (*)(void))Core_add, METH_VARARGS | METH_KEYWORDS,
     "Take over a leg's socket with its stream state."},
    {"remove", (PyCFunction)Core_remove, METH_VARARGS,
     "Give a leg back: (state, stats, chunks not yet drained)."},
    {"drain", (PyCFunction)Core_drain, METH_VARARGS, "The leg's captured audio: [(at, s16le)]."},
    {"stats", (PyCFunction)Core_stats, METH_VARARGS, "Counters since the last call, then zeroed."},
    {"state", (PyCFunction)Core_state, METH_VARARGS, "The leg's stream state, without removing it."},
    {"pump", (PyCFunction)Core_pump, METH_NOARGS, "Relay what every ready socket holds."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject CoreType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "salvesti.integrations.sip._rtpcore.Core",
    .tp_basicsize = sizeof(Core),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The native RTP relay: bridged G.711 legs relayed and captured in C.",
    .tp_new = Core_new,
    .tp_dealloc = (destructor)Core_dealloc,
    .tp_methods = Core_methods,
};

static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "_rtpcore",
                                       "The native RTP relay core (see Core).", -1, NULL};

PyMODINIT_FUNC PyInit__rtpcore(void) {
    if (PyType_Ready(&CoreType) < 0) return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (!m) return NULL;
    Py_INCREF(&CoreType);
    if (PyModule_AddObject(m, "Core", (PyObject *)&CoreType) < 0) {
        Py_DECREF(&CoreType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
