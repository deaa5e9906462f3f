/*
 * openapi.c — GET /openapi.json and GET /openapi.yaml: the OpenAPI
 * document this server implements, with no authentication. The bytes are
 * docs/contract/openapi.yaml and its JSON form, embedded at build time
 * (CMakeLists.txt, cmake/embed.cmake), so what is served is exactly what
 * the repository holds and never needs a file at run time.
 */
#include <stddef.h>

#include "api/handlers.h"

/* Generated into build/generated/openapi_doc.c; not NUL-terminated. */
extern const unsigned char athos_openapi_yaml[];
extern const size_t athos_openapi_yaml_len;
extern const unsigned char athos_openapi_json[];
extern const size_t athos_openapi_json_len;

enum api_result api_openapi_json(struct api_request *r)
{
  return http_reply_static(r, 200, "application/json", athos_openapi_json, athos_openapi_json_len);
}

/* application/yaml is the registered type (RFC 9512). */
enum api_result api_openapi_yaml(struct api_request *r)
{
  return http_reply_static(r, 200, "application/yaml", athos_openapi_yaml, athos_openapi_yaml_len);
}
