//! CloudWatch failures as reasons a person on call can act on ("credentials expired for
//! profile prod — run aws sso login --profile prod"), never an empty list that would read as
//! "no alarms".

use aws_sdk_cloudwatch::error::{ProvideErrorMetadata, SdkError};

/// Where the failing call went: for the message.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub profile: Option<String>,
    pub region: String,
    pub endpoint: Option<String>,
}

impl Context {
    fn profile(&self) -> String {
        match &self.profile {
            Some(p) => format!("profile {p}"),
            None => "the default credentials".into(),
        }
    }

    fn sso_login(&self) -> String {
        match &self.profile {
            Some(p) => format!("aws sso login --profile {p}"),
            None => "aws sso login".into(),
        }
    }
}

/// What kind of failure the SDK reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The request could not even be built (credentials, region).
    Construction,
    Timeout,
    /// Nothing came back (connection refused, DNS, TLS).
    Dispatch,
    /// An unparseable answer.
    Response,
    /// AWS answered with an error code.
    Service,
}

pub fn describe<E, R>(e: &SdkError<E, R>, ctx: &Context) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let kind = match e {
        SdkError::ConstructionFailure(_) => Failure::Construction,
        SdkError::TimeoutError(_) => Failure::Timeout,
        SdkError::DispatchFailure(_) => Failure::Dispatch,
        SdkError::ResponseError(_) => Failure::Response,
        _ => Failure::Service,
    };
    reason(kind, e.code(), &chain(e), ctx)
}

/// The error and its sources in one line (the SDK's own Display says only "service error").
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        src = s.source();
    }
    msg
}

/// The reason shown for a failure, from its kind, AWS's error code and the error text.
pub fn reason(kind: Failure, code: Option<&str>, text: &str, ctx: &Context) -> String {
    let lower = text.to_lowercase();
    let where_ = ctx
        .endpoint
        .clone()
        .unwrap_or_else(|| format!("CloudWatch in {}", ctx.region));
    let expired = matches!(
        code,
        Some("ExpiredToken" | "ExpiredTokenException" | "RequestExpired")
    ) || lower.contains("expired");
    if expired {
        return format!(
            "credentials expired for {} — run {}",
            ctx.profile(),
            ctx.sso_login()
        );
    }
    match code {
        Some(
            "Throttling"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "TooManyRequestsException",
        ) => {
            return format!(
                "throttled by CloudWatch in {} — polling slower until it passes",
                ctx.region
            )
        }
        Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation") => {
            return format!(
                "access denied: {} may not call cloudwatch:DescribeAlarms in {}",
                ctx.profile(),
                ctx.region
            )
        }
        Some(
            "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "SignatureDoesNotMatch"
            | "IncompleteSignature",
        ) => {
            return format!(
                "AWS rejects the credentials of {} (wrong key or secret) — check aws configure",
                ctx.profile()
            )
        }
        _ => {}
    }
    match kind {
        Failure::Construction
            if lower.contains("credential") || lower.contains("no providers in chain") =>
        {
            format!(
                "no AWS credentials for {} (environment, ~/.aws, SSO, instance role) — run aws configure or {}",
                ctx.profile(),
                ctx.sso_login()
            )
        }
        Failure::Construction if lower.contains("region") => format!(
            "no region for {} — set regions in [[alarms.cloudwatch]] or AWS_REGION",
            ctx.profile()
        ),
        Failure::Timeout => format!("{where_} did not answer in time"),
        Failure::Dispatch => {
            let why = if lower.contains("connection refused") {
                "connection refused"
            } else if lower.contains("dns") || lower.contains("resolve") {
                "name not found"
            } else if lower.contains("tls") || lower.contains("certificate") {
                "TLS failed"
            } else {
                "no connection"
            };
            format!("{where_} not reachable ({why})")
        }
        _ => match code {
            Some(c) => format!("CloudWatch error {c}: {}", first_line(text)),
            None => format!("CloudWatch call failed: {}", first_line(text)),
        },
    }
}

fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or_default();
    crate::sanitize::strip_escapes(&line.chars().take(200).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_say_what_to_do() {
        let ctx = Context {
            profile: Some("prod".into()),
            region: "ap-northeast-1".into(),
            endpoint: None,
        };
        let cases = [
            (Failure::Service, Some("ExpiredTokenException"), "service error", "credentials expired for profile prod — run aws sso login --profile prod"),
            (Failure::Construction, None, "failed to load credentials: the SSO session has expired or is invalid", "credentials expired for profile prod — run aws sso login --profile prod"),
            (Failure::Construction, None, "an error occurred while loading credentials: no providers in chain provided credentials", "no AWS credentials for profile prod (environment, ~/.aws, SSO, instance role) — run aws configure or aws sso login --profile prod"),
            (Failure::Service, Some("Throttling"), "Rate exceeded", "throttled by CloudWatch in ap-northeast-1 — polling slower until it passes"),
            (Failure::Service, Some("AccessDenied"), "User is not authorized", "access denied: profile prod may not call cloudwatch:DescribeAlarms in ap-northeast-1"),
            (Failure::Dispatch, None, "dispatch failure: io error: Connection refused (os error 111)", "CloudWatch in ap-northeast-1 not reachable (connection refused)"),
            (Failure::Timeout, None, "timeout", "CloudWatch in ap-northeast-1 did not answer in time"),
            (Failure::Service, Some("InternalFailure"), "boom\nmore", "CloudWatch error InternalFailure: boom"),
        ];
        for (kind, code, text, want) in cases {
            assert_eq!(reason(kind, code, text, &ctx), want, "{text}");
        }
    }
}
