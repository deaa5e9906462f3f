/*
 * pcm.c — byte order, the polyphase resampler and the peak envelope.
 *
 * The resampler treats rate_in -> rate_out as up-sampling by L, low-pass
 * filtering at the up-sampled rate, and keeping every M-th sample (L/M =
 * rate_out/rate_in in lowest terms). Only the filter taps that meet a real
 * input sample are ever multiplied, so each output costs K multiply-adds
 * where K = filter length / L. The filter is a Kaiser-windowed sinc sized
 * from the Kaiser formula for 80 dB of stop-band attenuation over a
 * transition band of 15 % of the lower Nyquist frequency.
 */
#include "voice/pcm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void pcm_from_le(const void *bytes, size_t n, int16_t *out)
{
  const uint8_t *b = bytes;
  for (size_t i = 0; i < n; i++)
    out[i] = (int16_t)(uint16_t)(b[2 * i] | (b[2 * i + 1] << 8));
}

void pcm_to_le(const int16_t *in, size_t n, void *bytes)
{
  uint8_t *b = bytes;
  for (size_t i = 0; i < n; i++) {
    uint16_t v = (uint16_t)in[i];
    b[2 * i] = (uint8_t)(v & 0xff);
    b[2 * i + 1] = (uint8_t)(v >> 8);
  }
}

void pcm_put_le32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

uint32_t pcm_get_le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- resampler ---------------------------------------------------------- */

#define RS_ATTEN_DB      80.0
#define RS_PASS_FRACTION 0.85       /* pass band edge / lower Nyquist */
#define RS_CHUNK         2048       /* input samples taken per inner round */
#define RS_MAX_TAPS      (1u << 21) /* refuses pathological rate pairs */

struct pcm_resampler {
  unsigned L, M;        /* up / down factors */
  size_t K;             /* taps per phase */
  size_t center;        /* filter delay, in up-sampled samples */
  float *coef;          /* L phases of K taps: coef[ph * K + k] = h[ph + k L] */
  float *x;             /* K-1 history samples + up to RS_CHUNK new ones */
  size_t len;           /* samples in x */
  uint64_t pos;         /* next output's up-sampled position, relative to x[0] */
  uint64_t n_in, n_out; /* this stream's totals */
};

static unsigned gcd_u(unsigned a, unsigned b)
{
  while (b) {
    unsigned t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/* Modified Bessel function of the first kind, order 0 (its power series
 * converges fast for the arguments a Kaiser window needs). */
static double bessel_i0(double x)
{
  double sum = 1.0, term = 1.0, q = x * x / 4.0;
  for (int k = 1; k < 50 && term > 1e-12 * sum; k++) {
    term *= q / ((double)k * k);
    sum += term;
  }
  return sum;
}

static void rs_reset(struct pcm_resampler *r)
{
  memset(r->x, 0, (r->K - 1) * sizeof *r->x);
  r->len = r->K - 1;
  r->pos = (uint64_t)(r->K - 1) * r->L + r->center;
  r->n_in = r->n_out = 0;
}

static int rs_design(struct pcm_resampler *r, unsigned rate_in, unsigned rate_out)
{
  double nyq = (rate_in < rate_out ? rate_in : rate_out) / 2.0;
  double fs_up = (double)rate_in * r->L;
  double df = nyq * (1.0 - RS_PASS_FRACTION);
  double fc = nyq - df / 2.0; /* -6 dB point, mid transition */
  double dw = 2.0 * M_PI * df / fs_up;
  double n_taps = (RS_ATTEN_DB - 8.0) / (2.285 * dw) + 1.0;
  double beta = 0.1102 * (RS_ATTEN_DB - 8.7);
  if (ceil(n_taps / r->L) * r->L > (double)RS_MAX_TAPS)
    return -1;
  r->K = (size_t)ceil(n_taps / r->L);
  if (r->K < 2)
    r->K = 2;
  size_t n = r->K * r->L;
  r->center = n / 2;
  r->coef = malloc(n * sizeof *r->coef);
  r->x = malloc((r->K - 1 + RS_CHUNK) * sizeof *r->x);
  if (!r->coef || !r->x)
    return -1;
  double w0 = 2.0 * fc / fs_up, i0b = bessel_i0(beta), half = (double)n / 2.0;
  for (size_t j = 0; j < n; j++) {
    double t = (double)j - (double)r->center;
    double s = t == 0.0 ? 1.0 : sin(M_PI * w0 * t) / (M_PI * w0 * t);
    double a = t / half;
    double win = a * a < 1.0 ? bessel_i0(beta * sqrt(1.0 - a * a)) / i0b : 0.0;
    size_t ph = j % r->L, k = j / r->L;
    r->coef[ph * r->K + k] = (float)(r->L * w0 * s * win);
  }
  return 0;
}

struct pcm_resampler *pcm_resampler_new(unsigned rate_in, unsigned rate_out)
{
  if (rate_in < PCM_RATE_MIN || rate_out < PCM_RATE_MIN || rate_in > PCM_RATE_MAX ||
      rate_out > PCM_RATE_MAX)
    return NULL;
  struct pcm_resampler *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  unsigned g = gcd_u(rate_in, rate_out);
  r->L = rate_out / g;
  r->M = rate_in / g;
  if (r->L == 1 && r->M == 1) { /* pass-through: one tap, no delay */
    r->K = 1;
    r->x = malloc(RS_CHUNK * sizeof *r->x);
    r->coef = malloc(sizeof *r->coef);
    if (!r->x || !r->coef)
      goto fail;
    r->coef[0] = 1.0f;
  } else if (rs_design(r, rate_in, rate_out) < 0) {
    goto fail;
  }
  rs_reset(r);
  return r;
fail:
  pcm_resampler_free(r);
  return NULL;
}

void pcm_resampler_free(struct pcm_resampler *r)
{
  if (!r)
    return;
  free(r->coef);
  free(r->x);
  free(r);
}

size_t pcm_resampler_max_out(const struct pcm_resampler *r, size_t n)
{
  return (size_t)(((uint64_t)n + r->K + 1) * r->L / r->M) + 2;
}

static int16_t clamp16(float v)
{
  long s = lrintf(v);
  return (int16_t)(s > 32767 ? 32767 : s < -32768 ? -32768 : s);
}

/* Emits every output whose newest input sample is already in x. */
static size_t rs_emit(struct pcm_resampler *r, int16_t *out, size_t cap)
{
  size_t w = 0;
  for (;;) {
    uint64_t i = r->pos / r->L;
    if (i >= r->len)
      break;
    if (w < cap) {
      const float *c = r->coef + (size_t)(r->pos % r->L) * r->K;
      const float *x = r->x + i;
      float acc = 0.0f;
      for (size_t k = 0; k < r->K; k++)
        acc += c[k] * x[-(ptrdiff_t)k];
      out[w++] = clamp16(acc);
    }
    r->pos += r->M;
  }
  r->n_out += w;
  /* keep the K-1 newest samples as history for the next round */
  size_t keep = r->K - 1, drop = r->len - keep;
  memmove(r->x, r->x + drop, keep * sizeof *r->x);
  r->len = keep;
  r->pos -= (uint64_t)drop * r->L;
  return w;
}

size_t pcm_resampler_process(struct pcm_resampler *r, const int16_t *in, size_t n, int16_t *out,
                             size_t cap)
{
  size_t written = 0;
  r->n_in += n;
  while (n > 0) {
    size_t take = n < RS_CHUNK ? n : RS_CHUNK;
    for (size_t i = 0; i < take; i++)
      r->x[r->len + i] = in[i];
    r->len += take;
    in += take;
    n -= take;
    written += rs_emit(r, out + written, cap - written);
  }
  return written;
}

size_t pcm_resampler_flush(struct pcm_resampler *r, int16_t *out, size_t cap)
{
  static const int16_t zero;
  uint64_t target = (r->n_in * r->L + r->M / 2) / r->M, have = r->n_out;
  size_t written = 0;
  /* the look-ahead is center/L < K input samples: zeros push the tail out,
   * one at a time so that tmp (L/M <= PCM_RATE_MAX/PCM_RATE_MIN) fits */
  for (size_t fed = 0; have < target && written < cap && fed <= r->K + 1; fed++) {
    int16_t tmp[PCM_RATE_MAX / PCM_RATE_MIN + 2];
    size_t m = pcm_resampler_process(r, &zero, 1, tmp, sizeof tmp / sizeof *tmp);
    size_t use = m;
    if (use > target - have)
      use = (size_t)(target - have);
    if (use > cap - written)
      use = cap - written;
    memcpy(out + written, tmp, use * sizeof *tmp);
    written += use;
    have += m;
  }
  rs_reset(r);
  return written;
}

/* ---- a growable sample buffer ------------------------------------------ */

void pcm_buf_init(struct pcm_buf *b, size_t max)
{
  b->s = NULL;
  b->n = b->cap = 0;
  b->max = max;
}

int pcm_buf_append(struct pcm_buf *b, const int16_t *pcm, size_t n)
{
  if (n == 0)
    return 0;
  if (n > b->max - b->n)
    return -1;
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + n)
      cap *= 2;
    if (cap > b->max)
      cap = b->max;
    int16_t *s = realloc(b->s, cap * sizeof *s);
    if (!s)
      return -1;
    b->s = s;
    b->cap = cap;
  }
  memcpy(b->s + b->n, pcm, n * sizeof *pcm);
  b->n += n;
  return 0;
}

void pcm_buf_free(struct pcm_buf *b)
{
  free(b->s);
  pcm_buf_init(b, b->max);
}

/* ---- peaks -------------------------------------------------------------- */

struct pcm_peaks {
  unsigned per_second;
  size_t bucket; /* samples per peak */
  size_t in_cur; /* samples in the current bucket */
  int cur;       /* current bucket's largest |sample| */
  size_t count, cap;
  uint8_t *data; /* cap + 1 bytes: the last holds the partial bucket */
};

uint8_t pcm_peak_byte(int magnitude)
{
  if (magnitude < 0)
    magnitude = -magnitude;
  long v = ((long)magnitude * 255 + 16383) / 32767;
  return (uint8_t)(v > 255 ? 255 : v);
}

struct pcm_peaks *pcm_peaks_new(unsigned rate, unsigned per_second, unsigned max_seconds)
{
  if (rate == 0 || per_second == 0 || per_second > rate || max_seconds == 0)
    return NULL;
  struct pcm_peaks *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->per_second = per_second;
  p->bucket = rate / per_second;
  p->cap = (size_t)per_second * max_seconds;
  p->data = calloc(p->cap + 1, 1);
  if (!p->data) {
    free(p);
    return NULL;
  }
  return p;
}

void pcm_peaks_free(struct pcm_peaks *p)
{
  if (!p)
    return;
  free(p->data);
  free(p);
}

void pcm_peaks_add(struct pcm_peaks *p, const int16_t *pcm, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    int m = pcm[i] < 0 ? -(int)pcm[i] : pcm[i];
    if (m > p->cur)
      p->cur = m;
    if (++p->in_cur == p->bucket) {
      if (p->count < p->cap)
        p->data[p->count++] = pcm_peak_byte(p->cur);
      p->cur = 0;
      p->in_cur = 0;
    }
  }
}

const uint8_t *pcm_peaks_data(struct pcm_peaks *p, size_t *count)
{
  *count = p->count;
  if (p->in_cur > 0 && p->count < p->cap) {
    p->data[p->count] = pcm_peak_byte(p->cur);
    (*count)++;
  }
  return p->data;
}

json_t *pcm_peaks_json(struct pcm_peaks *p)
{
  size_t n;
  const uint8_t *d = pcm_peaks_data(p, &n);
  json_t *arr = json_array();
  if (!arr)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    if (json_array_append_new(arr, json_integer(d[i])) < 0) {
      json_decref(arr);
      return NULL;
    }
  }
  return json_pack("{s:i, s:o}", "peaksPerSecond", (int)p->per_second, "peaks", arr);
}
