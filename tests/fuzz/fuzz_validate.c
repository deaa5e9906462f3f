/*
 * fuzz_validate.c — libFuzzer driver for the JSON body parser
 * (src/api/validate.h): validate_json_body() on the raw request body, then
 * validate_string_member() on the fields our handlers read, with the
 * limits they use.
 *
 * validate.c answers bad bodies through http_reply_error(); the driver
 * links a stub of it (no MHD, no socket) that only records the call.
 * Properties: a body is accepted iff it is one JSON object; an accepted
 * string member is 1..max bytes, NUL-free, without control characters and
 * byte-identical to the JSON value; a refused one has a message naming the
 * field.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int g_replies;

/* Stub of src/http/reply.c's error reply: validate.c's only server
 * dependency. */
enum api_result http_reply_error(struct api_request *r, enum athos_error e, const char *msg)
{
  (void)e;
  if (msg == NULL || msg[0] == '\0' || r->replied)
    abort(); /* an error needs a message, and a request is answered once */
  r->replied = true;
  g_replies++;
  return API_REPLIED;
}

struct field {
  const char *name;
  bool required;
  size_t max, cap;
};

/* The members the handlers read (src/api/session.c, roleplay.c). */
static const struct field FIELDS[] = {
    {"externalUserId", true, 256, 257},  {"externalAgencyId", false, 256, 257},
    {"drillKey", true, 64, 65},          {"difficulty", false, 16, 17},
    {"state", false, 2, 3},              {"category", false, 64, 65},
    {"url", true, 2048, 2049},
    {"token", true, 2048, 2049},         {"", false, 8, 9},
};

static void check_member(json_t *obj, const struct field *f)
{
  char out[2050], msg[160];
  memset(out, 0x5a, sizeof out);
  msg[0] = '\0';
  int rc = validate_string_member(obj, f->name, f->required, f->max, out, f->cap, msg, sizeof msg);
  json_t *v = json_object_get(obj, f->name);
  if (rc == 0) {
    if (v == NULL) {
      if (f->required || out[0] != '\0')
        abort();
      return;
    }
    size_t len = strnlen(out, f->cap);
    if (len == 0 || len > f->max || len >= f->cap || !json_is_string(v) ||
        json_string_length(v) != len || memcmp(out, json_string_value(v), len + 1) != 0 ||
        !validate_printable(out))
      abort();
  } else {
    /* Every reason starts with the field's name (cut at the buffer). */
    size_t nl = strlen(f->name) < sizeof msg - 1 ? strlen(f->name) : sizeof msg - 1;
    if (rc != -1 || msg[0] == '\0' || strncmp(msg, f->name, nl) != 0 || out[0] != '\0')
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* The server hands handlers a NUL-terminated copy of the body. */
  char *body = malloc(size + 1);
  if (body == NULL)
    return 0;
  memcpy(body, data, size);
  body[size] = '\0';
  struct api_request r;
  memset(&r, 0, sizeof r);
  r.body = size > 0 ? body : NULL;
  r.body_len = size;
  json_t *obj = NULL;
  g_replies = 0;
  enum api_result res = validate_json_body(&r, &obj);
  if (res == API_OK) {
    if (obj == NULL || !json_is_object(obj) || g_replies != 0)
      abort();
    for (size_t i = 0; i < sizeof FIELDS / sizeof FIELDS[0]; i++)
      check_member(obj, &FIELDS[i]);
    /* And whatever member names the body actually has. */
    const char *key;
    json_t *val;
    size_t seen = 0;
    json_object_foreach(obj, key, val)
    {
      struct field f = {key, (seen & 1) != 0, 1 + seen % 300, 2 + seen % 300};
      check_member(obj, &f);
      if (++seen == 16)
        break;
    }
    json_decref(obj);
  } else if (res != API_REPLIED || obj != NULL || g_replies != 1) {
    abort();
  }
  free(body);
  return 0;
}
