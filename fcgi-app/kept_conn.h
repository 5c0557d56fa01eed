/*
 * kept_conn: FastCGI connections nginx keeps alive between requests
 * (fastcgi_keep_conn on, an upstream with `keepalive`).  libfcgi reads the
 * next request of a kept connection in the thread that served the last one,
 * blocking, so an idle kept connection holds a thread.  Such a thread waits
 * here instead, where it can be told to give the connection up: when the
 * responder stops accepting, or when a new connection would otherwise find
 * no thread in accept (every thread busy or holding an idle connection).
 */
#ifndef LITELLM_KEPT_CONN_H
#define LITELLM_KEPT_CONN_H

#include <stdbool.h>

enum kept_conn_next {
    KEPT_CONN_READABLE, /* the next request (or nginx's close): let libfcgi read it */
    KEPT_CONN_GIVE_UP,  /* close the connection and go back to accept */
};

/* Waits until the kept connection `fd` has something to read or must be
 * given up.  Counted in kept_conn_idle() meanwhile.  A thread told to give
 * its connection up (kept_conn_want_acceptor) does so only if
 * acceptor_wanted() still says so: a request made during a burst that has
 * since passed is dropped, not paid with a connection. */
enum kept_conn_next kept_conn_wait(int fd, bool (*acceptor_wanted)(void));

/* Threads waiting in kept_conn_wait now. */
unsigned kept_conn_idle(void);

/* Asks one waiting thread (or the next to wait) to give its connection up,
 * so that a thread goes back to accept. */
void kept_conn_want_acceptor(void);

/* Every waiting thread, and every later one, gives its connection up. */
void kept_conn_stop(void);

#endif
