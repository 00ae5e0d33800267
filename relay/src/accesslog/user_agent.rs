//! Operating system, browser and version from the User-Agent header, by the woothee parser
//! (a maintained port of a multi-language project). The raw header is never stored.

pub struct ClientSoftware {
    pub os: String,
    pub browser: String,
    pub browser_version: String,
}

pub fn parse(user_agent: &str) -> ClientSoftware {
    let parsed = woothee::parser::Parser::new().parse(user_agent);
    match parsed {
        Some(result) => ClientSoftware {
            os: result.os.to_string(),
            browser: result.name.to_string(),
            browser_version: result.version.to_string(),
        },
        None => ClientSoftware {
            os: "UNKNOWN".into(),
            browser: "UNKNOWN".into(),
            browser_version: String::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_browsers_are_recognised() {
        let firefox = parse(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
        );
        assert_eq!(firefox.browser, "Firefox");
        assert_eq!(firefox.browser_version, "128.0");
        assert_eq!(firefox.os, "Windows 10");
        let safari = parse("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1");
        assert_eq!(safari.browser, "Safari");
        assert_eq!(safari.os, "iPhone");
        let nothing = parse("");
        assert_eq!(nothing.browser, "UNKNOWN");
    }
}
