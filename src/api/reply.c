/* reply.c — the HTTP answer to a lower layer's decision (api.h). */
#include <assert.h>

#include "api/api.h"
#include "metrics.h"
#include "store/store.h"
#include "util/log.h"

enum api_result api_reply_store_error(struct api_request *r, int store_rc)
{
  assert(store_rc != STORE_OK);
  enum athos_error e = athos_error_from_store(store_rc);
  metrics_inc(M_STORE_ERRORS);
  if (e == ERR_INTERNAL_ERROR)
    log_error("request %s: store error %d", r->request_id, store_rc);
  return http_reply_decision(r, e);
}

enum api_result api_reply_decision(struct api_request *r, enum athos_error e)
{
  assert(e != ERR_NONE);
  if (e == ERR_INTERNAL_ERROR)
    log_error("request %s: internal error behind an auth decision", r->request_id);
  return http_reply_decision(r, e);
}
