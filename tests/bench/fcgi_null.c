/*
 * fcgi_null: the floor of the FastCGI hop, for `make bench`.  A libfcgi
 * responder that does nothing: every request is answered at once with a
 * fixed JSON body (of --body-bytes bytes), from a pool of threads in
 * FCGX_Accept_r as litellm-fcgi has.  nginx -> fcgi_null measures what the
 * nginx -> FastCGI hop costs by itself (a new Unix-socket connection per
 * request, libfcgi's records and its close), without the responder's work
 * and the pipe round trip.
 *
 * It takes litellm-fcgi's command line, so that litellmctl can start it as
 * LITELLM_FCGI: --fcgi SOCKET, --pipe PATH (a listening socket nobody is
 * served on, which litellmctl waits for), --pid-file FILE, --fcgi-group
 * GROUP, --threads N, --body-bytes N (or the environment variable
 * FCGI_NULL_BODY_BYTES); every other option is ignored.
 */
#include <errno.h>
#include <fcgiapp.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define HEALTH_BODY "{\"status\":\"ok\",\"windows\":0,\"models\":[],\"in_flight\":0}\n"

static int listen_fd = -1;
static char *body;
static size_t body_len;

static int
listen_unix(const char *path, mode_t mode, const char *group)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof addr.sun_path)
        return -1;
    memcpy(addr.sun_path, path, strlen(path) + 1);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 1024) != 0)
        return -1;
    if (group != NULL) {
        struct group *gr = getgrnam(group);
        if (gr == NULL || chown(path, (uid_t)-1, gr->gr_gid) != 0)
            return -1;
    }
    chmod(path, mode);
    return fd;
}

static void *
worker_main(void *arg)
{
    (void)arg;
    FCGX_Request request;
    if (FCGX_InitRequest(&request, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
        return NULL;
    while (FCGX_Accept_r(&request) >= 0) {
        char buf[8192];
        /* Read the body, as any responder must. */
        while (FCGX_GetStr(buf, sizeof buf, request.in) > 0)
            ;
        FCGX_FPrintF(request.out, "Status: 200 OK\r\nContent-Type: application/json\r\n\r\n");
        /* litellmctl start waits for a status document on /health
         * (litellm-status reads its "status"). */
        const char *uri = FCGX_GetParam("DOCUMENT_URI", request.envp);
        if (uri != NULL && strcmp(uri, "/health") == 0)
            FCGX_PutS(HEALTH_BODY, request.out);
        else
            FCGX_PutStr(body, (int)body_len, request.out);
        FCGX_Finish_r(&request);
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    const char *fcgi_path = NULL, *pipe_path = NULL, *pid_file = NULL, *group = NULL;
    int threads = 64;
    const char *bytes_env = getenv("FCGI_NULL_BODY_BYTES");
    long bytes = bytes_env ? atol(bytes_env) : 491;
    for (int i = 1; i < argc; i++) {
        const char *name = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strncmp(name, "--", 2) != 0 || value == NULL)
            continue;
        if (strcmp(name, "--fcgi") == 0)
            fcgi_path = value;
        else if (strcmp(name, "--pipe") == 0)
            pipe_path = value;
        else if (strcmp(name, "--pid-file") == 0)
            pid_file = value;
        else if (strcmp(name, "--fcgi-group") == 0)
            group = value;
        else if (strcmp(name, "--threads") == 0)
            threads = atoi(value);
        else if (strcmp(name, "--body-bytes") == 0)
            bytes = atol(value);
        i++;
    }
    if (fcgi_path == NULL || threads < 1 || bytes < 2) {
        fprintf(stderr,
                "usage: fcgi_null --fcgi SOCKET [--pipe PATH] [--pid-file FILE] [--threads N] [--body-bytes N]\n");
        return 2;
    }
    body_len = (size_t)bytes;
    body = malloc(body_len);
    if (body == NULL)
        return 1;
    /* A JSON object of exactly body_len bytes: {"x":"xxxx…"} */
    memset(body, 'x', body_len);
    memcpy(body, "{\"x\":\"", 6);
    memcpy(body + body_len - 2, "\"}", 2);

    signal(SIGPIPE, SIG_IGN);
    /* As litellm-fcgi does (it reads all input first, as we do): no wait
     * for nginx to close after each request. */
    setenv("LIBFCGI_OS_CLOSE_POLL_TIMEOUT", "0", 0);
    if (FCGX_Init() != 0)
        return 1;
    /* FCGX_Init took SIGTERM; litellmctl's shutdown must end us. */
    signal(SIGTERM, SIG_DFL);
    listen_fd = listen_unix(fcgi_path, group ? 0660 : 0600, group);
    if (listen_fd < 0) {
        fprintf(stderr, "fcgi_null: cannot listen on %s: %s\n", fcgi_path, strerror(errno));
        return 1;
    }
    if (pipe_path != NULL && listen_unix(pipe_path, 0600, NULL) < 0) {
        fprintf(stderr, "fcgi_null: cannot create %s: %s\n", pipe_path, strerror(errno));
        return 1;
    }
    if (pid_file != NULL) {
        FILE *f = fopen(pid_file, "w");
        if (f != NULL) {
            fprintf(f, "%d\n", (int)getpid());
            fclose(f);
        }
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (int i = 0; i < threads; i++) {
        pthread_t thread;
        if (pthread_create(&thread, &attr, worker_main, NULL) != 0)
            return 1;
    }
    /* Until SIGTERM (default action: exit). */
    for (;;)
        pause();
}
