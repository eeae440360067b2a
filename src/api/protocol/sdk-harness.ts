// Test helper: a real AWS SDK v3 EC2 client whose HTTP layer is replaced by a function, so tests
// can read the exact request the SDK sends and hand it any response body.
import { EC2Client } from "@aws-sdk/client-ec2";
import { type HttpRequest, HttpResponse } from "@smithy/protocol-http";

export type CannedResponse = { status: number; body: string };

export function sdkClient(respond: (request: HttpRequest) => CannedResponse): EC2Client {
  return new EC2Client({
    region: "us-east-1",
    endpoint: "http://localhost",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    maxAttempts: 1,
    requestHandler: {
      async handle(request: HttpRequest) {
        const { status, body } = respond(request);
        const headers = { "content-type": "text/xml;charset=UTF-8" };
        return { response: new HttpResponse({ statusCode: status, headers, body: Buffer.from(body) }) };
      },
    },
  });
}

/** The form parameters of the request the SDK sends for `command`, answered with `reply`. */
export async function sentParams(
  send: (client: EC2Client) => Promise<unknown>,
  reply = "<Response/>",
): Promise<URLSearchParams> {
  let body = "";
  await send(
    sdkClient((request) => {
      body = String(request.body);
      return { status: 200, body: reply };
    }),
  );
  return new URLSearchParams(body);
}

/** What the SDK makes of `body` as the response to the command `send` issues. */
export async function received<T>(
  send: (client: EC2Client) => Promise<T>,
  body: string,
  status = 200,
): Promise<T> {
  return send(sdkClient(() => ({ status, body })));
}
