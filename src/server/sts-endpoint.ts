// STS on the EC2 endpoint, for the clients that ask who they are before anything else (Packer,
// Terraform): GetCallerIdentity, Query protocol, signed for service `sts`. Every Strata account is
// its own root, so the answer is the account's root ARN. Errors have STS's shape and codes.
import { callerIdentityXml, STS_VERSION, stsErrorXml } from "../api/sts/sts-xml.ts";
import type { QueryService } from "./query-service.ts";

export const STS: QueryService = {
  signingName: "sts",
  title: "STS",
  version: STS_VERSION,
  actions: {
    GetCallerIdentity: ({ accountId, requestId }) =>
      callerIdentityXml(
        { account: accountId, arn: `arn:aws:iam::${accountId}:root`, userId: accountId },
        requestId,
      ),
  },
  errorXml: stsErrorXml,
};
