/*
 * vrrpscope.sources._walk: the compiled inner loops of the capture readers.
 *
 * A capture is almost all traffic vrrpscope does not decode (well under 1 % is VRRP, ARP or ND).
 * The pure-Python walkers in pcap.py and pcapng.py spend several hundred nanoseconds per record on
 * the header unpack and the pre-filter; these loops do the same work in C for the records that are
 * certainly not ours, and return to Python at the first record they cannot decide alone: a
 * candidate frame, a record straddling the end of the buffer, any length that needs checking or a
 * message, any block that is not an EPB. Everything that yields a Frame or a SourceProblem stays in
 * Python, so the two paths cannot disagree about output; what is computed here (frame and byte
 * counts, first/last timestamps) is computed with the same IEEE operations as the Python code.
 *
 * scan_at() is a line-by-line port of dissectors.packet._scan_at and must stay equal to it:
 * tests/test_walk_accel.py compares both on every sample frame and on generated frames.
 *
 * No state, no allocation; the buffer is only read, within [pos, end).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>

#define REJECT (-1)
#define OTHER (-2)
#define MAX_VLAN_TAGS 8
#define MAX_BLOCK (16u * 1024u * 1024u)
#define BT_EPB 6u
#define MAX_IFACES 256

static inline uint32_t rd32(const unsigned char *p, int big)
{
    if (big)
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | (uint32_t)p[0];
}

static inline int v4_proto_ok(unsigned b) { return b == 112 || b == 51; }

/* IPv6 at p: VRRP, ICMPv6 NS/NA, or an extension header (conservatively accepted). */
static int v6_candidate(const unsigned char *d, Py_ssize_t p, Py_ssize_t end)
{
    unsigned nh;
    if (p + 6 >= end)
        return 0;
    nh = d[p + 6];
    if (nh == 58)
        return p + 40 < end && (d[p + 40] == 135 || d[p + 40] == 136);
    return nh == 112 || nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60;
}

/* Port of dissectors.packet._scan_at: REJECT, OTHER, or the IPv4 header offset from base. */
static Py_ssize_t scan_at(long linktype, const unsigned char *d, Py_ssize_t base, Py_ssize_t end)
{
    Py_ssize_t p;
    unsigned et;
    int tags = 0;
    switch (linktype) {
    case 1: /* Ethernet */
        p = base + 14;
        break;
    case 276: /* Linux SLL2: protocol first */
        if (base + 20 > end)
            return (base + 2 <= end && d[base] == 0x08 && d[base + 1] == 0x06) ? OTHER : REJECT;
        p = base + 20;
        et = (unsigned)d[base] << 8 | d[base + 1];
        goto have_ethertype;
    case 113: /* Linux SLL */
        p = base + 16;
        break;
    case 101: { /* raw IP */
        unsigned version;
        if (base >= end)
            return REJECT;
        version = d[base] >> 4;
        if (version == 4)
            return (base + 9 < end && v4_proto_ok(d[base + 9])) ? 0 : REJECT;
        return (version == 6 && v6_candidate(d, base, end)) ? OTHER : REJECT;
    }
    case 228: /* raw IPv4 */
        return (base + 9 < end && v4_proto_ok(d[base + 9])) ? 0 : REJECT;
    case 229: /* raw IPv6 */
        return v6_candidate(d, base, end) ? OTHER : REJECT;
    default:
        return REJECT;
    }
    if (p > end)
        return REJECT;
    et = (unsigned)d[p - 2] << 8 | d[p - 1];
have_ethertype:
    while ((et == 0x8100 || et == 0x88a8 || et == 0x9100) && tags < MAX_VLAN_TAGS) {
        if (p + 4 > end)
            return REJECT;
        et = (unsigned)d[p + 2] << 8 | d[p + 3];
        p += 4;
        tags++;
    }
    if (et == 0x0800)
        return (p + 9 < end && v4_proto_ok(d[p + 9])) ? p - base : REJECT;
    if (et == 0x86dd)
        return v6_candidate(d, p, end) ? OTHER : REJECT;
    return et == 0x0806 ? OTHER : REJECT;
}

static inline int bitlen128(unsigned __int128 v)
{
    uint64_t hi = (uint64_t)(v >> 64);
    if (hi)
        return 128 - __builtin_clzll(hi);
    return v ? 64 - __builtin_clzll((uint64_t)v) : 0;
}

/*
 * x / d rounded to the nearest double, ties to even: the value of Python's int / int (which is
 * correctly rounded), so pcapng timestamps equal the pure-Python reader's to the last bit even when
 * the tick count exceeds 2**53 (nanosecond resolution).
 */
static double exact_div(uint64_t x, uint64_t d)
{
    int bx, bd, k, s;
    unsigned __int128 X, D, N, R;
    uint64_t m, low, half;
    if (x == 0)
        return 0.0;
    if (x < (1ULL << 53) && d < (1ULL << 53))
        return (double)x / (double)d; /* both exact: IEEE division is correctly rounded */
    bx = 64 - __builtin_clzll(x);
    bd = 64 - __builtin_clzll(d);
    k = 55 - (bx - bd); /* x * 2**k / d then has 55 or 56 bits */
    X = x;
    D = d;
    if (k >= 0)
        X <<= k;
    else
        D <<= -k;
    N = X / D;
    R = X % D;
    s = bitlen128(N) - 53;
    low = (uint64_t)(N & ((((unsigned __int128)1) << s) - 1));
    half = 1ULL << (s - 1);
    m = (uint64_t)(N >> s);
    if (low > half || (low == half && (R != 0 || (m & 1))))
        m++;
    return ldexp((double)m, s - k);
}

PyDoc_STRVAR(scan_doc,
             "scan(linktype, buf, start, end) -> int\n\n"
             "dissectors.packet._scan_at in C: -1 reject, -2 a non-IPv4 candidate, else the IPv4 header offset.");

static PyObject *scan(PyObject *self, PyObject *args)
{
    long linktype;
    Py_buffer b;
    Py_ssize_t start, end, r;
    (void)self;
    if (!PyArg_ParseTuple(args, "ly*nn", &linktype, &b, &start, &end))
        return NULL;
    if (start < 0 || end > b.len || start > end) {
        PyBuffer_Release(&b);
        PyErr_SetString(PyExc_ValueError, "need 0 <= start <= end <= len(buf)");
        return NULL;
    }
    r = scan_at(linktype, (const unsigned char *)b.buf, start, end);
    PyBuffer_Release(&b);
    return PyLong_FromSsize_t(r);
}

PyDoc_STRVAR(pcap_run_doc,
             "pcap_run(buf, pos, end, big_endian, linktype, limit, div, tmin, tmax, t)\n"
             "    -> (pos, frames, nbytes, tmin, tmax, t)\n\n"
             "Skip the classic-pcap records from pos that are whole in buf[:end], have caplen <= limit and\n"
             "are rejected by the pre-filter; stop before the first other one. Timestamps are\n"
             "sec + frac / div as in pcap.py; tmin/tmax/t carry the caller's running values.");

static PyObject *pcap_run(PyObject *self, PyObject *args)
{
    Py_buffer b;
    Py_ssize_t pos, end, count = 0;
    int big;
    long linktype;
    unsigned long long limit, nbytes = 0;
    double div, tmin, tmax, t;
    const unsigned char *d;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*nnplKdddd", &b, &pos, &end, &big, &linktype, &limit, &div, &tmin, &tmax, &t))
        return NULL;
    if (end > b.len)
        end = b.len;
    if (pos < 0)
        pos = 0;
    d = (const unsigned char *)b.buf;
    while (end - pos >= 16) {
        const unsigned char *h = d + pos;
        uint32_t sec = rd32(h, big), frac = rd32(h + 4, big), cap = rd32(h + 8, big);
        Py_ssize_t start = pos + 16, npos;
        double tt;
        if (cap > limit || (Py_ssize_t)cap > end - start)
            break;
        npos = start + (Py_ssize_t)cap;
        if (scan_at(linktype, d, start, npos) != REJECT)
            break;
        tt = (double)sec + (double)frac / div;
        if (tt > tmax)
            tmax = tt;
        if (tt < tmin)
            tmin = tt;
        t = tt;
        count++;
        nbytes += cap;
        pos = npos;
    }
    PyBuffer_Release(&b);
    return Py_BuildValue("nnKddd", pos, count, nbytes, tmin, tmax, t);
}

typedef struct {
    long linktype;
    unsigned long long limit;
    uint64_t div;
    double toff;
    int usable;
} iface_t;

PyDoc_STRVAR(pcapng_run_doc,
             "pcapng_run(buf, pos, end, big_endian, ifaces, tmin, tmax, last_t)\n"
             "    -> (pos, frames, nbytes, tmin, tmax, last_t)\n\n"
             "Skip the EPBs from pos that are whole in buf[:end] with lengths that agree, name a known\n"
             "interface, respect its caplen limit and carry a frame the pre-filter rejects; stop before\n"
             "the first other block. ifaces is pcapng.py's list of (gid, linktype, limit, div, toff, ...)\n"
             "tuples; timestamps are ticks / div + toff, rounded exactly as Python's int / int.");

static PyObject *pcapng_run(PyObject *self, PyObject *args)
{
    Py_buffer b;
    Py_ssize_t pos, end, count = 0, nif, i;
    int big;
    PyObject *ifaces;
    unsigned long long nbytes = 0;
    double tmin, tmax, last_t;
    const unsigned char *d;
    iface_t ifs[MAX_IFACES];
    (void)self;
    if (!PyArg_ParseTuple(args, "y*nnpO!ddd", &b, &pos, &end, &big, &PyList_Type, &ifaces, &tmin, &tmax, &last_t))
        return NULL;
    nif = PyList_GET_SIZE(ifaces);
    if (nif > MAX_IFACES)
        nif = MAX_IFACES; /* later interfaces go through the Python loop */
    for (i = 0; i < nif; i++) {
        PyObject *it = PyList_GET_ITEM(ifaces, i);
        iface_t *f = &ifs[i];
        f->usable = 0;
        if (!PyTuple_Check(it) || PyTuple_GET_SIZE(it) < 5)
            continue;
        /* A divisor beyond 64 bits (hostile if_tsresol) or anything unexpected: leave the
         * interface to the Python loop. */
        f->linktype = PyLong_AsLong(PyTuple_GET_ITEM(it, 1));
        if (PyErr_Occurred())
            goto unusable;
        f->limit = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(it, 2));
        if (PyErr_Occurred())
            goto unusable;
        f->div = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(it, 3));
        if (PyErr_Occurred())
            goto unusable;
        {
            long long toff = PyLong_AsLongLong(PyTuple_GET_ITEM(it, 4));
            if (PyErr_Occurred())
                goto unusable;
            f->toff = (double)toff; /* as Python's float + int: int64 rounded to nearest */
        }
        f->usable = f->div != 0;
        continue;
    unusable:
        PyErr_Clear();
    }
    if (end > b.len)
        end = b.len;
    if (pos < 0)
        pos = 0;
    d = (const unsigned char *)b.buf;
    while (end - pos >= 28) {
        const unsigned char *h = d + pos;
        uint32_t btype = rd32(h, big), blen = rd32(h + 4, big), ifid, cap;
        const iface_t *f;
        Py_ssize_t start;
        uint64_t ticks;
        double t;
        if (btype != BT_EPB || blen < 32 || (blen & 3) || blen > MAX_BLOCK || (Py_ssize_t)blen > end - pos)
            break;
        ifid = rd32(h + 8, big);
        cap = rd32(h + 20, big);
        if (cap > blen - 32 || ifid >= (uint32_t)nif)
            break;
        f = &ifs[ifid];
        if (!f->usable || cap > f->limit || rd32(h + blen - 4, big) != blen)
            break;
        start = pos + 28;
        if (scan_at(f->linktype, d, start, start + (Py_ssize_t)cap) != REJECT)
            break;
        ticks = (uint64_t)rd32(h + 12, big) << 32 | rd32(h + 16, big);
        t = exact_div(ticks, f->div) + f->toff;
        last_t = t;
        if (t < tmin)
            tmin = t;
        if (t > tmax)
            tmax = t;
        count++;
        nbytes += cap;
        pos += blen;
    }
    PyBuffer_Release(&b);
    return Py_BuildValue("nnKddd", pos, count, nbytes, tmin, tmax, last_t);
}

PyDoc_STRVAR(div_doc, "div(x, d) -> float\n\nx / d for 0 <= x, d < 2**64 (d > 0), rounded as Python's int / int.");

static PyObject *py_div(PyObject *self, PyObject *args)
{
    unsigned long long x, dd;
    (void)self;
    if (!PyArg_ParseTuple(args, "KK", &x, &dd))
        return NULL;
    if (dd == 0) {
        PyErr_SetString(PyExc_ZeroDivisionError, "division by zero");
        return NULL;
    }
    return PyFloat_FromDouble(exact_div(x, dd));
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS, scan_doc},
    {"pcap_run", pcap_run, METH_VARARGS, pcap_run_doc},
    {"pcapng_run", pcapng_run, METH_VARARGS, pcapng_run_doc},
    {"div", py_div, METH_VARARGS, div_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "vrrpscope.sources._walk",
    "Compiled inner loops of the capture readers (see vrrpscope/sources/_walk.c).",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__walk(void) { return PyModule_Create(&module); }
