/* The native RTP relay core: receive, check, rewrite and send bridged G.711 legs in C.
 *
 * Python keeps the control (SIP, SDP, notice playback, hold, transfer, transcoding); once a
 * call's two legs are bridged with the same G.711 codec, both sockets are handed to one
 * Core.  The Core is an epoll set.  It drains every ready socket with recvmmsg, rewrites each
 * header in place into the far leg's stream (the same sequence/timestamp/SSRC algorithm as
 * MediaLeg.forward), sends each batch with one sendmmsg, and decodes the audio into per-leg
 * chunks for the recording: consecutive packets of one stream are merged, so the recording
 * gets about one chunk per leg per flush instead of one Python call per packet.
 *
 * Two ways to run it:
 * - pumped: the event loop watches the epoll descriptor and calls Core.pump() (no thread);
 * - a worker: Core.start() runs the same relay in its own thread that never takes the GIL,
 *   so RTP no longer wakes the event loop at all and several Cores use several CPU cores.
 *   A mutex guards the legs; the Python methods take it with the GIL released, and build
 *   their Python objects only after letting it go (a leg being removed is unlinked first,
 *   captured audio is detached first), so the worker never waits on Python and Python never
 *   runs arbitrary code (a GC finaliser) while holding the mutex.  batch_us > 0 lets the
 *   worker sleep that long after each wake-up so the next one finds many sockets ready:
 *   fewer epoll_wait calls and context switches per packet, for at most that much jitter.
 * The hand-over back to Python (Core.remove) returns the whole stream state so the Python
 * path continues exactly where C stopped.
 */
#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
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
    /* loss by sequence number, as LegStats.count_sequence (RFC 3550 A.3) */
    long long seq_ssrc;
    unsigned long long seq_base, seq_max, seq_received, seq_lost;
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
    pthread_mutex_t lock;
    pthread_t thread;
    int running, wakefd, batch_us, paused;
    unsigned long long wakeups, ready;
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
        free(c->pcm);
        free(c);
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
        c = calloc(1, sizeof(chunk_t));
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
        int16_t *pcm = realloc(c->pcm, (size_t)cap * sizeof(int16_t));
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
#define MAX_DROPOUT 3000
#define MAX_MISORDER 100

static void seq_restart(leg_t *L, uint32_t ssrc, uint32_t seq) {
    if (L->seq_ssrc >= 0) {
        unsigned long long expected = L->seq_max - L->seq_base + 1;
        if (expected > L->seq_received) L->seq_lost += expected - L->seq_received;
    }
    L->seq_ssrc = ssrc;
    L->seq_base = L->seq_max = seq;
    L->seq_received = 1;
}

static void count_sequence(leg_t *L, uint32_t ssrc, uint32_t seq) {
    if ((long long)ssrc != L->seq_ssrc) {
        seq_restart(L, ssrc, seq);
        return;
    }
    uint32_t delta = (seq - (uint32_t)L->seq_max) & 0xFFFF;
    if (delta < MAX_DROPOUT) {
        L->seq_max += delta;
    } else if (delta < 0x10000 - MAX_MISORDER) {
        seq_restart(L, ssrc, seq);
        return;
    }
    L->seq_received++;
}

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
    count_sequence(L, ssrc, seq);
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

/* -- the worker thread ------------------------------------------------------------------- */
static void relay_ready(Core *self, struct epoll_event *evs, int n, int *stop) {
    self->wakeups++;
    for (int i = 0; i < n; i++) {
        if (evs[i].data.fd == self->wakefd && self->wakefd >= 0) {
            *stop = 1;
            continue;
        }
        leg_t *L = find(self, evs[i].data.fd);
        if (L) {
            self->ready++;
            service(self, L);
        }
    }
}

static void *worker(void *arg) {
    Core *self = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals stay with Python's main thread */
    struct epoll_event evs[MAXEV];
    for (;;) {
        int n = epoll_wait(self->epfd, evs, MAXEV, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        int stop = 0;
        pthread_mutex_lock(&self->lock);
        if (self->paused) { /* a pair of legs is being handed over: leave the packets queued */
            pthread_mutex_unlock(&self->lock);
            struct timespec wait = {0, 100000L};
            nanosleep(&wait, NULL);
            continue; /* level-triggered: epoll reports them again */
        }
        relay_ready(self, evs, n, &stop);
        pthread_mutex_unlock(&self->lock);
        if (stop) break;
        if (self->batch_us > 0) {
            struct timespec pause = {0, (long)self->batch_us * 1000L};
            nanosleep(&pause, NULL);
        }
    }
    return NULL;
}

/* Take the mutex from Python: without the GIL while waiting, so the loop's other threads run. */
static void lock_core(Core *self) {
    if (pthread_mutex_trylock(&self->lock) == 0) return;
    Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&self->lock);
    Py_END_ALLOW_THREADS
}

static void unlock_core(Core *self) { pthread_mutex_unlock(&self->lock); }

static void stop_worker(Core *self) {
    if (!self->running) return;
    uint64_t one = 1;
    if (write(self->wakefd, &one, sizeof(one)) < 0) { /* the worker is gone already */
    }
    Py_BEGIN_ALLOW_THREADS pthread_join(self->thread, NULL);
    Py_END_ALLOW_THREADS
    self->running = 0;
    epoll_ctl(self->epfd, EPOLL_CTL_DEL, self->wakefd, NULL);
    close(self->wakefd);
    self->wakefd = -1;
}

/* -- Python interface -------------------------------------------------------------------- */
static PyObject *Core_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    if (!PyArg_ParseTuple(args, "")) return NULL;
    Core *self = (Core *)type->tp_alloc(type, 0);
    if (!self) return NULL;
    self->wakefd = -1;
    pthread_mutex_init(&self->lock, NULL);
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
    stop_worker(self);
    for (int i = 0; i < self->nlegs; i++) {
        if (self->legs[i]) {
            free_chunks(self->legs[i]);
            PyMem_Free(self->legs[i]);
        }
    }
    free(self->legs);
    if (self->epfd >= 0) close(self->epfd);
    pthread_mutex_destroy(&self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Core_fileno(Core *self, PyObject *unused) { return PyLong_FromLong(self->epfd); }

static PyObject *Core_len(Core *self, PyObject *unused) { return PyLong_FromLong(self->count); }

static PyObject *Core_start(Core *self, PyObject *args) {
    int batch_us = 0;
    if (!PyArg_ParseTuple(args, "|i", &batch_us)) return NULL;
    if (self->running) {
        PyErr_SetString(PyExc_RuntimeError, "the core's worker is already running");
        return NULL;
    }
    if (batch_us < 0 || batch_us > 20000) {
        PyErr_SetString(PyExc_ValueError, "batch_us must be 0..20000");
        return NULL;
    }
    self->batch_us = batch_us;
    self->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (self->wakefd < 0) return PyErr_SetFromErrno(PyExc_OSError);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = self->wakefd};
    if (epoll_ctl(self->epfd, EPOLL_CTL_ADD, self->wakefd, &ev) < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        close(self->wakefd);
        self->wakefd = -1;
        return NULL;
    }
    int err = pthread_create(&self->thread, NULL, worker, self);
    if (err) {
        errno = err;
        PyErr_SetFromErrno(PyExc_OSError);
        epoll_ctl(self->epfd, EPOLL_CTL_DEL, self->wakefd, NULL);
        close(self->wakefd);
        self->wakefd = -1;
        return NULL;
    }
    pthread_setname_np(self->thread, "salvesti-rtp"); /* what top -H and /proc/PID/task show */
    self->running = 1;
    Py_RETURN_NONE;
}

static PyObject *Core_stop(Core *self, PyObject *unused) {
    stop_worker(self);
    Py_RETURN_NONE;
}

/* One packet we generate (notice playback) into an engaged leg's outgoing stream: the same
 * algorithm as MediaLeg.send_frame, on the state the core owns while it holds the leg, and to
 * the address it latched (a caller behind NAT hears the notice where they really are). */
static PyObject *missing(int fd);

static PyObject *Core_send(Core *self, PyObject *args) {
    int fd, pt, marker;
    unsigned int ts_step;
    Py_buffer payload;
    if (!PyArg_ParseTuple(args, "iy*iIp", &fd, &payload, &pt, &ts_step, &marker)) return NULL;
    if (payload.len > BUFSZ - 12 || pt < 0 || pt > 127) {
        PyBuffer_Release(&payload);
        PyErr_SetString(PyExc_ValueError, "payload too long or payload type out of range");
        return NULL;
    }
    unsigned char pkt[BUFSZ];
    lock_core(self);
    leg_t *L = find(self, fd);
    if (L) {
        double now = monotonic();
        if (L->has_src || !L->has_out_time) { /* a new source in our stream: mark it, keep time */
            marker = 1;
            L->has_src = 0;
            if (L->has_out_time) {
                long long gap = llround((now - L->out_time) * L->clock) - (long long)ts_step;
                if (gap > 0) L->out_ts += (uint32_t)gap;
            }
        }
        L->out_seq = (L->out_seq + 1) & 0xFFFF;
        L->out_ts += ts_step;
        L->out_time = now;
        L->has_out_time = 1;
        if (L->has_addr && !L->blocked) {
            pkt[0] = 0x80;
            pkt[1] = (unsigned char)((marker ? 0x80 : 0) | pt);
            pkt[2] = (unsigned char)(L->out_seq >> 8);
            pkt[3] = (unsigned char)L->out_seq;
            pkt[4] = (unsigned char)(L->out_ts >> 24);
            pkt[5] = (unsigned char)(L->out_ts >> 16);
            pkt[6] = (unsigned char)(L->out_ts >> 8);
            pkt[7] = (unsigned char)L->out_ts;
            pkt[8] = (unsigned char)(L->out_ssrc >> 24);
            pkt[9] = (unsigned char)(L->out_ssrc >> 16);
            pkt[10] = (unsigned char)(L->out_ssrc >> 8);
            pkt[11] = (unsigned char)L->out_ssrc;
            memcpy(pkt + 12, payload.buf, (size_t)payload.len);
            if (sendto(L->fd, pkt, 12 + (size_t)payload.len, MSG_DONTWAIT, (struct sockaddr *)&L->addr,
                       L->addrlen) < 0)
                L->send_errors++;
            else
                L->packets_out++;
        }
    }
    unlock_core(self);
    PyBuffer_Release(&payload);
    if (!L) return missing(fd);
    Py_RETURN_NONE;
}

/* Between pause() and resume() the worker reads nothing, so both legs of a call change hands
 * together: no packet is read while only one of them is in the core. */
static PyObject *Core_pause(Core *self, PyObject *unused) {
    lock_core(self);
    self->paused = 1;
    unlock_core(self);
    Py_RETURN_NONE;
}

static PyObject *Core_resume(Core *self, PyObject *unused) {
    lock_core(self);
    self->paused = 0;
    unlock_core(self);
    Py_RETURN_NONE;
}

static PyObject *Core_running(Core *self, PyObject *unused) { return PyBool_FromLong(self->running); }

static PyObject *Core_counters(Core *self, PyObject *unused) {
    lock_core(self);
    unsigned long long wakeups = self->wakeups, ready = self->ready;
    unlock_core(self);
    return Py_BuildValue("{sKsK}", "wakeups", wakeups, "ready", ready);
}

static const char *ADD_KW[] = {"fd", "peer", "audio_pt", "event_pt", "table", "capture", "addr",
                               "expect_ip", "latch_any", "latched", "blocked", "out_ssrc", "out_seq",
                               "out_ts", "out_time", "src_ssrc", "src_seq_off", "src_ts0", "out_ts0",
                               "clock", "rx_ssrc", "rx_ts0", "rx_t0", "seq_ssrc", "seq_base",
                               "seq_max", "seq_received", "seq_lost", NULL};

static PyObject *Core_add(Core *self, PyObject *args, PyObject *kw) {
    int fd, peer, audio_pt, event_pt, capture_on, latch_any, latched, blocked, clock;
    Py_buffer table;
    PyObject *addr, *expect, *out_time, *src_ssrc;
    unsigned int out_ssrc, out_seq, out_ts, src_seq_off, src_ts0, out_ts0, rx_ts0;
    long long rx_ssrc, seq_ssrc;
    unsigned long long seq_base, seq_max, seq_received, seq_lost;
    double rx_t0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "iiiiy*pOOpppIIIOOIIIiLIdLKKKK", (char **)ADD_KW, &fd,
                                     &peer, &audio_pt, &event_pt, &table, &capture_on, &addr, &expect,
                                     &latch_any, &latched, &blocked, &out_ssrc, &out_seq, &out_ts,
                                     &out_time, &src_ssrc, &src_seq_off, &src_ts0, &out_ts0, &clock,
                                     &rx_ssrc, &rx_ts0, &rx_t0, &seq_ssrc, &seq_base, &seq_max,
                                     &seq_received, &seq_lost))
        return NULL;
    leg_t *L = NULL;
    if (table.len != 512) {
        PyErr_SetString(PyExc_ValueError, "table must be 256 little-endian int16 samples");
        goto fail;
    }
    if (fd < 0 || clock <= 0) {
        PyErr_Format(PyExc_ValueError, "descriptor %d or clock %d is not valid", fd, clock);
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
    L->seq_ssrc = seq_ssrc;
    L->seq_base = seq_base;
    L->seq_max = seq_max;
    L->seq_received = seq_received;
    L->seq_lost = seq_lost;
    int err = 0; /* 1: already there, 2: no memory, 3: errno from epoll_ctl */
    lock_core(self);
    if (find(self, fd)) {
        err = 1;
    } else if (fd >= self->nlegs) {
        /* a new table (not realloc): the worker never sees a half-grown one */
        int n = self->nlegs ? self->nlegs : 64;
        while (n <= fd) n *= 2;
        leg_t **legs = calloc((size_t)n, sizeof(leg_t *));
        if (!legs) {
            err = 2;
        } else {
            if (self->nlegs) memcpy(legs, self->legs, (size_t)self->nlegs * sizeof(leg_t *));
            free(self->legs);
            self->legs = legs;
            self->nlegs = n;
        }
    }
    if (!err) {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(self->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            err = 3;
        } else {
            self->legs[fd] = L;
            self->count++;
        }
    }
    int saved = errno;
    unlock_core(self);
    if (err == 1) {
        PyErr_Format(PyExc_ValueError, "descriptor %d is already in the core", fd);
        goto fail;
    }
    if (err == 2) {
        PyErr_NoMemory();
        goto fail;
    }
    if (err == 3) {
        errno = saved;
        PyErr_SetFromErrno(PyExc_OSError);
        goto fail;
    }
    PyBuffer_Release(&table);
    Py_RETURN_NONE;
fail:
    PyMem_Free(L);
    PyBuffer_Release(&table);
    return NULL;
}

/* Captured audio as [(at, s16le)], freeing the chunks (which are no longer linked anywhere). */
static PyObject *chunks_list(chunk_t *head) {
    PyObject *out = PyList_New(0);
    for (chunk_t *c = head; c && out; c = c->next) {
        PyObject *item = Py_BuildValue("(dy#)", c->at, (const char *)c->pcm, c->n * 2);
        if (!item || PyList_Append(out, item) < 0) Py_CLEAR(out);
        Py_XDECREF(item);
    }
    leg_t tmp = {.head = head};
    free_chunks(&tmp);
    return out;
}

static chunk_t *detach_chunks(leg_t *L) {
    chunk_t *head = L->head;
    L->head = L->tail = NULL;
    return head;
}

static int fd_arg(PyObject *args, int *fd) { return PyArg_ParseTuple(args, "i", fd); }

static PyObject *missing(int fd) {
    PyErr_Format(PyExc_KeyError, "descriptor %d is not in the core", fd);
    return NULL;
}

static PyObject *Core_drain(Core *self, PyObject *args) {
    int fd;
    if (!fd_arg(args, &fd)) return NULL;
    lock_core(self);
    leg_t *L = find(self, fd);
    chunk_t *head = L ? detach_chunks(L) : NULL;
    unlock_core(self);
    return L ? chunks_list(head) : missing(fd);
}

/* The counters of a snapshot ``L`` (a copy taken under the lock). */
static PyObject *stats_dict(const leg_t *L) {
    PyObject *last = L->has_last_rx ? PyFloat_FromDouble(L->last_rx) : Py_NewRef(Py_None);
    return Py_BuildValue("{sKsKsKsKsKsKsKsKsN}", "packets_in", L->packets_in, "bytes_in",
                         L->bytes_in, "packets_out", L->packets_out, "invalid", L->invalid,
                         "wrong_source", L->wrong_source, "unknown_pt", L->unknown_pt, "rtcp",
                         L->rtcp, "send_errors", L->send_errors, "last_rx", last);
}

static void zero_stats(leg_t *L) {
    L->packets_in = L->bytes_in = L->packets_out = L->invalid = 0;
    L->wrong_source = L->unknown_pt = L->rtcp = L->send_errors = 0;
    L->has_last_rx = 0;
}

static PyObject *Core_stats(Core *self, PyObject *args) {
    int fd;
    if (!fd_arg(args, &fd)) return NULL;
    leg_t snap;
    lock_core(self);
    leg_t *L = find(self, fd);
    if (L) {
        snap = *L;
        zero_stats(L);
    }
    unlock_core(self);
    return L ? stats_dict(&snap) : missing(fd);
}

static PyObject *state_dict(const leg_t *L) {
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
    return Py_BuildValue("{sNsNsisIsIsNsNsIsIsIsLsIsdsLsKsKsKsK}", "addr", addr, "expect_ip", expect,
                         "latched", L->latched, "out_seq", L->out_seq, "out_ts", L->out_ts,
                         "out_time", out_time, "src_ssrc", src, "src_seq_off", L->src_seq_off,
                         "src_ts0", L->src_ts0, "out_ts0", L->out_ts0, "rx_ssrc",
                         (long long)L->rx_ssrc, "rx_ts0", L->rx_ts0, "rx_t0", L->rx_t0, "seq_ssrc",
                         L->seq_ssrc, "seq_base", L->seq_base, "seq_max", L->seq_max,
                         "seq_received", L->seq_received, "seq_lost", L->seq_lost);
}

static PyObject *Core_state(Core *self, PyObject *args) {
    int fd;
    if (!fd_arg(args, &fd)) return NULL;
    leg_t snap;
    lock_core(self);
    leg_t *L = find(self, fd);
    if (L) snap = *L;
    unlock_core(self);
    return L ? state_dict(&snap) : missing(fd);
}

static PyObject *Core_remove(Core *self, PyObject *args) {
    int fd;
    if (!fd_arg(args, &fd)) return NULL;
    lock_core(self);
    leg_t *L = find(self, fd);
    if (L) { /* unlinked under the lock: from here on only this thread sees it */
        epoll_ctl(self->epfd, EPOLL_CTL_DEL, fd, NULL); /* fails harmlessly if already closed */
        self->legs[fd] = NULL;
        self->count--;
    }
    unlock_core(self);
    if (!L) return missing(fd);
    PyObject *state = state_dict(L);
    PyObject *stats = stats_dict(L);
    PyObject *chunks = chunks_list(detach_chunks(L));
    PyMem_Free(L);
    if (!state || !stats || !chunks) {
        Py_XDECREF(state);
        Py_XDECREF(stats);
        Py_XDECREF(chunks);
        return NULL;
    }
    return Py_BuildValue("(NNN)", state, stats, chunks);
}

static PyObject *Core_pump(Core *self, PyObject *unused) {
    if (self->running) {
        PyErr_SetString(PyExc_RuntimeError, "the core's worker relays; pump() is for a pumped core");
        return NULL;
    }
    struct epoll_event evs[MAXEV];
    int n = epoll_wait(self->epfd, evs, MAXEV, 0);
    int stop = 0;
    if (n > 0) {
        lock_core(self);
        relay_ready(self, evs, n, &stop);
        unlock_core(self);
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
    {"start", (PyCFunction)Core_start, METH_VARARGS,
     "Relay in a worker thread from now on (no pump); start(batch_us=0)."},
    {"stop", (PyCFunction)Core_stop, METH_NOARGS, "Stop the worker thread (the legs stay)."},
    {"send", (PyCFunction)Core_send, METH_VARARGS,
     "send(fd, payload, pt, ts_step, marker): one generated packet into an engaged leg."},
    {"pause", (PyCFunction)Core_pause, METH_NOARGS, "The worker reads nothing until resume()."},
    {"resume", (PyCFunction)Core_resume, METH_NOARGS, "The worker relays again."},
    {"running", (PyCFunction)Core_running, METH_NOARGS, "True while the worker thread relays."},
    {"counters", (PyCFunction)Core_counters, METH_NOARGS,
     "Wake-ups and ready sockets served since the start: how well the relay batches."},
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
