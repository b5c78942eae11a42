/*
 * Kafka test broker for cwm's tests: librdkafka's in-process mock cluster,
 * kept alive as its own process so tests can stop it by PID.
 *
 *   kafka-mock [-b brokers] [-p partitions] topic...
 *
 * Prints "bootstraps <host:port,...>" once the topics exist, then waits for
 * signals: SIGUSR1 takes every broker down (connections refused, data kept),
 * SIGUSR2 brings them back, SIGTERM/SIGINT exit. Each signal is acknowledged
 * with a line ("down", "up") so the caller knows it took effect.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int positive(const char *arg, const char *what) {
  int v = atoi(arg);
  if (v < 1) {
    fprintf(stderr, "kafka-mock: %s must be a positive number, got %s\n", what, arg);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  int brokers = 1, partitions = 1, opt;
  while ((opt = getopt(argc, argv, "b:p:")) != -1) {
    if (opt == 'b') brokers = positive(optarg, "-b");
    else if (opt == 'p') partitions = positive(optarg, "-p");
    else {
      fprintf(stderr, "usage: kafka-mock [-b brokers] [-p partitions] topic...\n");
      return 2;
    }
  }

  /* Blocked before librdkafka starts its threads, so they inherit the mask and sigwait below sees every signal. */
  sigset_t wanted;
  sigemptyset(&wanted);
  sigaddset(&wanted, SIGTERM);
  sigaddset(&wanted, SIGINT);
  sigaddset(&wanted, SIGUSR1);
  sigaddset(&wanted, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &wanted, NULL);

  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err) != RD_KAFKA_CONF_OK) {
    fprintf(stderr, "kafka-mock: %s\n", err);
    return 1;
  }
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    fprintf(stderr, "kafka-mock: rd_kafka_new: %s\n", err);
    return 1;
  }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) {
    fprintf(stderr, "kafka-mock: cannot create mock cluster\n");
    return 1;
  }
  /* The mock rejects CreateTopics (controller id mismatch), so topics come from argv. */
  for (int i = optind; i < argc; i++) {
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, argv[i], partitions, brokers);
    if (e) {
      fprintf(stderr, "kafka-mock: topic %s: %s\n", argv[i], rd_kafka_err2str(e));
      return 1;
    }
  }
  printf("bootstraps %s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);

  for (;;) {
    int sig;
    if (sigwait(&wanted, &sig) != 0) continue;
    if (sig == SIGUSR1) {
      rd_kafka_mock_broker_set_down(mc, -1);
      puts("down");
    } else if (sig == SIGUSR2) {
      rd_kafka_mock_broker_set_up(mc, -1);
      puts("up");
    } else {
      break;
    }
    fflush(stdout);
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
