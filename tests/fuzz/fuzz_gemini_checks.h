/*
 * fuzz_gemini_checks: what a Gemini answer must look like, for the targets
 * that see one (fuzz_fcgi_params, the whole request path).  Each aborts on
 * a violation (FUZZ_CHECK).
 *
 * A JSON body: an error is Google's object ({"error":{"code","message",
 * "status","details"}}, code the HTTP status); a 200 is a
 * GenerateContentResponse, {"totalTokens": N}, the model list or one model.
 * A stream follows the strict framing Gemini CLI's parser needs: only
 * "data: <JSON object>" lines each followed by a blank line, and bare
 * blank lines (heartbeats); no comment, no event: line; chunks are
 * GenerateContentResponses of role "model" whose function calls carry an
 * id, a name and object args; the finish reason and usage only on the last
 * chunk, whose usage adds up; or a last error object, after which nothing
 * comes.  A stream ends with one of the two.
 */
#ifndef LITELLM_FUZZ_GEMINI_CHECKS_H
#define LITELLM_FUZZ_GEMINI_CHECKS_H

#include <stddef.h>

void fuzz_check_gemini_json(int status, const char *body, size_t len);
void fuzz_check_gemini_stream(const char *body, size_t len);

#endif
