/*
 * ops_access: who may read the gateway's operations data (GET /metrics, the
 * usage and status documents the status page shows).  A client on this
 * machine may (nginx saw it come from a loopback address, REMOTE_ADDR), and
 * so may one that sends --metrics-token as a bearer token: a remote
 * Prometheus, a team's dashboard.  API keys do not open it: a key spends
 * models, it does not read everyone's usage.
 *
 * The web guard (Host, Origin) has already run: a web page cannot read
 * these documents through a loopback client either.
 */
#ifndef LITELLM_OPS_ACCESS_H
#define LITELLM_OPS_ACCESS_H

#include "api_error.h"
#include "config.h"
#include "http.h"

/* 0, or -1 with `err`: 401 for a wrong token, 403 for none off loopback. */
int ops_access_check(const struct http_request *req, const struct config *cfg,
                     struct api_error *err);

#endif
