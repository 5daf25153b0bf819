// A Curator LeaderLatch contender for the bench (bench/peers/peers.ts).
//
// Usage: java -cp <cache dir>:<curator jars> CuratorContender <zk hosts> <path> <name> <session ms>
//
// Starts Apache Curator's LeaderLatch and prints, as soon as its isLeader() listener runs,
// `LEADER <name> <unix time in ms>`. On SIGTERM (the JVM's shutdown hook) it closes the latch,
// which deletes its node, then the client, as an application shutting down would.
import java.time.Instant;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.retry.RetryNTimes;

public final class CuratorContender {
  private static String now() {
    Instant instant = Instant.now();
    double ms = instant.getEpochSecond() * 1000.0 + instant.getNano() / 1_000_000.0;
    return String.format("%.3f", ms);
  }

  public static void main(String[] args) throws Exception {
    String hosts = args[0];
    String path = args[1];
    String name = args[2];
    int sessionTimeoutMs = Integer.parseInt(args[3]);
    CuratorFramework client = CuratorFrameworkFactory.builder()
        .connectString(hosts)
        .sessionTimeoutMs(sessionTimeoutMs)
        .connectionTimeoutMs(10_000)
        .retryPolicy(new RetryNTimes(10, 100))
        .build();
    now(); // Load the formatting classes now, not inside the first callback.
    client.start();
    client.blockUntilConnected();
    LeaderLatch latch = new LeaderLatch(client, path, name);
    latch.addListener(new LeaderLatchListener() {
      @Override
      public void isLeader() {
        System.out.println("LEADER " + name + " " + now());
        System.out.flush();
      }

      @Override
      public void notLeader() {}
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        latch.close();
      } catch (Exception ignored) {
        // Closing the client removes the node with the session.
      }
      client.close();
    }));
    latch.start();
    System.out.println("READY " + name);
    System.out.flush();
    Thread.currentThread().join();
  }
}
