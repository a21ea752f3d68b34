/*
 * Starts DynamoDB Local listening on 127.0.0.1 only. DynamoDB Local has no bind-address option (its Jetty
 * listens on every interface); this sets the host on its connector before starting it, then behaves like
 * `java -jar DynamoDBLocal.jar` with the same arguments. Compiled once into .local/ by dynamodb_local.py.
 */
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class LoopbackDynamoDBLocal {
    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server server = (Server) field.get(proxy);
        Connector[] connectors = server.getConnectors();
        if (connectors.length == 0) throw new IllegalStateException("no connectors");
        for (Connector c : connectors) ((ServerConnector) c).setHost("127.0.0.1");
        proxy.start();
        proxy.join();
    }
}
