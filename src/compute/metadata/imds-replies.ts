// The IMDS's HTTP answers: a status, a body and its type, and EC2's XHTML error pages.

function errorPage(status: number, title: string): string {
  return `<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
         "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>${status} - ${title}</title>
 </head>
 <body>
  <h1>${status} - ${title}</h1>
 </body>
</html>
`;
}

export interface Reply {
  status: number;
  body: string | Buffer;
  type: string;
  headers?: Record<string, string>;
}

export function error(status: number, title: string): Reply {
  return { status, body: errorPage(status, title), type: "text/html" };
}
