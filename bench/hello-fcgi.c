/* The FastCGI floor for bench/api-floor.sh: a bare libfcgi app answering the same JSON as
 * GET /api/health, in the same shape as our pool: P pre-forked processes on one socket,
 * each with T threads in FCGX_Accept_r (no accept mutex).
 * Usage: hello-fcgi SOCKET THREADS [PROCESSES] */
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int listen_fd;
static const char reply[] =
    "Status: 200 OK\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n"
    "X-Request-ID: 00000000000000000000000000000000\r\nContent-Length: 15\r\n\r\n{\"status\":\"ok\"}";

static void *serve(void *unused) {
    FCGX_Request request;
    FCGX_InitRequest(&request, listen_fd, 0);
    while (FCGX_Accept_r(&request) >= 0) {
        FCGX_PutStr(reply, (int)sizeof(reply) - 1, request.out);
        FCGX_Finish_r(&request);
    }
    return unused;
}

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    FCGX_Init();
    signal(SIGTERM, SIG_DFL);
    listen_fd = FCGX_OpenSocket(argv[1], 1024);
    chmod(argv[1], 0666);
    int threads = atoi(argv[2]);
    int processes = argc > 3 ? atoi(argv[3]) : 1;
    for (int p = 1; p < processes; p++) {
        if (fork() == 0) break;
    }
    pthread_t ids[256];
    for (int i = 1; i < threads && i < 256; i++) pthread_create(&ids[i], NULL, serve, NULL);
    serve(NULL);
    return 0;
}
