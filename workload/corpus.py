"""What the sample workload is made of: the knowledge base (one fact per passage marked
`[true|wrong]`), questions, answers' openers and closers, rude and refused replies, the models with
their latency, and the apps with their mix. Plain data: `generate.py` draws from it.
"""

from __future__ import annotations

import re
from typing import NamedTuple

KB = [  # (domain, questions separated by "|", passage with one [true|wrong] fact)
    ("cust", "How long do I have to return an item?|Can I still return a jacket I bought three weeks ago?", "Returns policy: Unused items can be returned within [30|60] days of delivery for a full refund. Items must be in their original packaging with all accessories. Refunds go back to the original payment method within 5-7 business days after the warehouse receives the parcel."),
    ("cust", "Who pays for return shipping?|Is the return label free?", "Return shipping: We provide a prepaid return label for orders over $50. For smaller orders a flat fee of [$4.95|$9.95] is deducted from the refund. Return labels are valid for 14 days after they are issued."),
    ("cust", "Can I return a gift card?|Can I return a personalised mug?", "Final sale items: Gift cards, opened software and personalised products [cannot|can] be returned or exchanged unless they arrive damaged or defective. Damaged items must be reported within 48 hours of delivery with a photo."),
    ("cust", "How long does standard shipping take?|When will my order arrive if I pick standard delivery?", "Shipping times: Standard shipping takes [3-5|1-2] business days within the continental US and is free on orders over $35. Express shipping takes 1-2 business days and costs $14.99. Orders placed after 2 pm ET ship the next business day."),
    ("cust", "Do you ship to Canada?|How long does international delivery take?", "International shipping: We ship to 42 countries. International delivery takes [7-14|2-3] business days. Customs duties and import taxes are paid by the recipient on delivery, and we do not ship to PO boxes outside the US."),
    ("cust", "Tracking says delivered but I don't have my package.|My parcel is marked delivered but it isn't here, what now?", "Lost parcels: If tracking shows delivered but the parcel has not arrived, wait [48 hours|2 weeks] and check with neighbours before contacting support. We reship or refund a lost parcel once per order after a carrier investigation of up to 10 business days."),
    ("cust", "What does the warranty cover?|Is my headset still under warranty after 18 months?", "Warranty: All hardware carries a [2-year|5-year] limited warranty from the date of purchase covering manufacturing defects. It does not cover accidental damage, water damage or normal battery wear. Proof of purchase is required for every claim."),
    ("cust", "Can I extend my warranty?|How much is CarePlus?", "Extended protection: The CarePlus plan extends coverage to 4 years and adds accidental damage for $79 per device. It must be purchased within [60|365] days of the original order. It includes two accidental damage claims with a $29 service fee each."),
    ("cust", "When will I be charged for my subscription?|Why was I billed on the 31st?", "Billing cycle: Subscriptions are billed on the same day each month as the original sign-up date. If that day does not exist in a month, billing happens on the last day of the month. Invoices are emailed [3|10] days before each charge."),
    ("cust", "Can I get a refund on my annual plan?|I cancelled my monthly plan, do I get money back?", "Subscription refunds: Annual plans can be cancelled for a prorated refund within the first [30|90] days. Monthly plans are not refunded for partial months. Cancellation takes effect at the end of the current billing period."),
    ("cust", "Which payment methods do you accept?|Can I pay by bank transfer?", "Payment methods: We accept Visa, Mastercard, American Express, PayPal and SEPA direct debit. Bank transfer is available [only for annual plans over $1,000|for all plans]. We do not accept cryptocurrency or cheques."),
    ("cust", "My card was declined, will my account be closed?|What happens if a payment fails?", "Failed payments: If a charge fails we retry it automatically after 3, 5 and 7 days. The account stays active during the retry period. It is downgraded to the free plan [10|30] days after the first failed attempt."),
    ("cust", "How do I downgrade my plan?|If I upgrade mid-month, what do I pay?", "Plan changes: Upgrades take effect immediately and the price difference is prorated to the day. Downgrades take effect at the start of the next billing cycle, and unused seats [are not|are] refunded."),
    ("cust", "How do loyalty points work?|When do my reward points expire?", "Rewards programme: Members earn [1 point|5 points] per dollar spent, and 100 points are worth $5 off a future order. Points expire 12 months after they were earned and cannot be exchanged for cash."),
    ("cust", "How do I reset my password?|My reset link doesn't work anymore, why?", "Password reset: Use the 'Forgot password' link on the sign-in page. The reset link is valid for [60 minutes|24 hours] and can be used once. After 5 failed sign-in attempts the account is locked for 15 minutes."),
    ("cust", "How do I delete my account?|Can I restore an account I deleted yesterday?", "Account deletion: Account owners can delete the account under Settings > Privacy. Data is kept for a [30-day|7-day] grace period during which the account can be restored, then permanently erased. Invoices are retained for 7 years for tax purposes."),
    ("cust", "Do you price match?|I saw this cheaper at another store, can you match it?", "Price matching: We match the price of identical items sold by major US retailers [within 14 days|at any time] after purchase. Marketplace sellers, clearance sales and bundle deals are excluded. Price matching is limited to one claim per item."),
    ("cust", "What are your support hours?|Is live chat available on Sundays?", "Support hours: Phone support is open Monday to Friday, 8 am to 8 pm ET, and Saturday 9 am to 5 pm ET. Live chat is available [24/7|on weekdays only] for customers on the Pro and Enterprise plans."),
    ("dev", "What are the API rate limits?|Why am I getting HTTP 429 errors?", "API rate limits: The standard tier allows [600|6,000] requests per minute and 100,000 requests per day per API key. Exceeding the limit returns HTTP 429 with a Retry-After header. Limits reset on a rolling 60-second window."),
    ("dev", "What is the maximum request size?|How many items can a batch call take?", "Request limits: Request bodies are limited to [10 MB|100 MB] and a single batch call accepts up to 500 items. Responses larger than 5 MB are paginated with a cursor that stays valid for 15 minutes."),
    ("dev", "Do API keys expire?|How many API keys can a workspace have?", "API keys: Keys do not expire by default, but workspace admins can enforce rotation every 30, 60 or 90 days. A workspace can have at most [25|250] active keys. Revoked keys stop working within 60 seconds."),
    ("dev", "How are failed webhooks retried?|How do I verify a webhook signature?", "Webhook delivery: Failed webhook deliveries are retried [8|3] times with exponential backoff over roughly 24 hours. Endpoints must respond with a 2xx status within 10 seconds. Every payload is signed with HMAC-SHA256 in the X-Signature header."),
    ("dev", "How long is an API version supported?|When is version 2023-10 retired?", "Versioning: Each API version is supported for [18 months|6 months] after the next version is released. Deprecated endpoints return a Sunset header with the removal date. Version 2023-10 is retired on 2026-12-31."),
    ("dev", "What uptime SLA do you offer?|What credits do we get for downtime?", "Service level: The Enterprise plan includes a [99.95%|99.5%] monthly uptime SLA. If availability falls below it, customers receive service credits of 10% of the monthly fee, up to 30% below 99.0%. Scheduled maintenance is excluded."),
    ("dev", "Does the Python SDK retry requests?|Which languages have an official SDK?", "SDKs: Official SDKs are available for Python 3.9+, Node.js 18+, Go 1.21+ and Java 17. The Python SDK [retries|does not retry] idempotent requests automatically up to 3 times. Other SDKs need retries configured explicitly."),
    ("dev", "How does pagination work on list endpoints?|What's the max page size?", "Pagination: List endpoints return at most [100|1,000] items per page, with a default of 20. Use the next_cursor field from the response to fetch the next page. Offsets are not supported on endpoints created after 2024."),
    ("dev", "Is there a sandbox environment?|When is sandbox data reset?", "Sandbox: Every workspace gets a free sandbox with test API keys prefixed sk_test_. Sandbox data is reset every [Sunday at 00:00 UTC|day at midnight UTC]. Sandbox rate limits are 10 times lower than production."),
    ("sec", "Is our data encrypted at rest?|How often are encryption keys rotated?", "Encryption: Customer data is encrypted at rest with AES-256 and in transit with TLS 1.2 or higher. Encryption keys are rotated every [90 days|2 years] and kept in a hardware security module. Customer-managed keys are available on Enterprise."),
    ("sec", "How long do you keep logs?|What is your data retention policy?", "Data retention: Application logs are retained for [30 days|13 months] and audit logs for 1 year. Backups are kept for 35 days in a separate region. Enterprise customers can shorten retention to 7 days."),
    ("sec", "Do you support SSO?|Can we use Okta with SAML?", "Single sign-on: SAML 2.0 and OIDC single sign-on are available on the [Enterprise plan only|Pro and Enterprise plans]. SCIM provisioning syncs users and groups every 40 minutes. Enforcing SSO disables password sign-in for all members."),
    ("sec", "How do I report a security vulnerability?|Do you have a bug bounty?", "Vulnerability disclosure: Report security issues to security@example.com. We acknowledge reports within [2 business days|2 weeks], and the bug bounty pays between $250 and $15,000 depending on severity. Do not test against other customers' data."),
    ("sec", "Are you HIPAA compliant?|Can we get your SOC 2 report?", "Compliance: The platform is SOC 2 Type II and ISO 27001 certified, and the reports are shared under NDA. We are [not|fully] HIPAA compliant and do not sign BAAs. Audits are renewed every 12 months."),
    ("sec", "How fast are customers told about a data breach?|Where do you post incident updates?", "Incident notification: In the event of a personal data breach, affected customers are notified within [72 hours|30 days] of confirmation, as required by GDPR. Status updates are posted on status.example.com every 30 minutes during an incident."),
    ("sec", "Can we still use SMS codes for MFA?|Which MFA methods are supported?", "Multi-factor authentication: Admins can enforce MFA for all workspace members. Supported factors are TOTP apps and WebAuthn security keys, and SMS codes [are no longer|are still] accepted as of 1 March 2026. Recovery codes are single use."),
    ("hr", "How many vacation days do I get?|Can I carry over unused leave?", "Annual leave: Full-time employees receive [25|15] days of paid annual leave per calendar year, plus public holidays. Up to 5 unused days can be carried over to the next year. Carried-over days must be used by 31 March."),
    ("hr", "Do I need a doctor's note for a sick day?|How many sick days do we have?", "Sick leave: Employees can take up to [10|3] paid sick days per year without a doctor's note. Absences longer than 3 consecutive days require a medical certificate. The certificate must reach HR within a week."),
    ("hr", "How long is parental leave?|Can I split my parental leave?", "Parental leave: The primary caregiver receives [20|12] weeks of fully paid parental leave and the secondary caregiver 6 weeks. Leave must start within 12 months of the birth or adoption. It can be split into two blocks."),
    ("hr", "What's the deadline for submitting expenses?|What's the daily meal allowance when travelling?", "Expenses: Business expenses must be submitted in the expense tool within [30|90] days with an itemised receipt. Meals are reimbursed up to $75 per day when travelling. Economy class is required for flights under 6 hours."),
    ("hr", "How many days can I work from home?|Can I work from Spain for a month?", "Remote work: Employees may work remotely up to [3|5] days per week with their manager's approval. Working from another country is allowed for up to 30 days per year. It needs HR approval at least 2 weeks in advance."),
    ("hr", "How big is the learning budget?|Does unused training budget roll over?", "Learning budget: Each employee has an annual learning budget of [$1,500|$5,000] for courses, books and conferences. Unused budget does not roll over. Requests above $500 need manager approval."),
    ("hr", "What equipment do new hires get?|When do I return my laptop after leaving?", "Equipment: New hires receive a laptop and a [$500|$1,500] home office allowance in their first month. Equipment remains company property. It must be returned within 10 days of the last working day."),
]

CODE = [  # (question, answer)
    ("How do I parse an ISO-8601 timestamp ending in Z in Python?", "Since Python 3.11 `datetime.fromisoformat` accepts the `Z` suffix:\n\n```python\nfrom datetime import datetime\nts = datetime.fromisoformat(\"2026-11-20T10:00:00Z\")\n```\n\nOn older versions replace `Z` with `+00:00` first."),
    ("Why does my LEFT JOIN return duplicate rows?", "A LEFT JOIN returns one row per matching row on the right, so a one-to-many relation multiplies rows. Use `EXISTS` or aggregate the right side first:\n\n```sql\nSELECT o.* FROM orders o\nWHERE EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id);\n```"),
    ("How can I retry a fetch call with exponential backoff in TypeScript?", "Wrap the call in a loop and double the delay each time:\n\n```ts\nasync function retry<T>(fn: () => Promise<T>, tries = 5): Promise<T> {\n  for (let i = 0; ; i++) {\n    try { return await fn(); }\n    catch (e) { if (i >= tries - 1) throw e; await new Promise(r => setTimeout(r, 2 ** i * 200)); }\n  }\n}\n```"),
    ("What's the difference between git rebase and git merge?", "`git merge` creates a merge commit and keeps both histories as they happened. `git rebase` replays your commits on top of the target branch, giving a linear history but rewriting commit hashes. Never rebase commits you have already pushed to a shared branch."),
    ("How do I read a 20 GB CSV in pandas without running out of memory?", "Read it in chunks and aggregate as you go:\n\n```python\nimport pandas as pd\ntotal = 0\nfor chunk in pd.read_csv(\"events.csv\", chunksize=500_000, usecols=[\"amount\"]):\n    total += chunk[\"amount\"].sum()\n```\n\nSelecting only the columns you need with `usecols` and setting `dtype` helps too."),
    ("Why is my React component re-rendering on every keystroke?", "Each state update re-renders the component that owns the state and all its children. Move the input state down into a smaller component, or wrap expensive children in `React.memo` and pass stable callbacks with `useCallback`."),
    ("How do I make a Go HTTP client time out after 5 seconds?", "Set `Timeout` on the client; the default client has none:\n\n```go\nclient := &http.Client{Timeout: 5 * time.Second}\nresp, err := client.Get(url)\n```\n\nFor per-request deadlines use `context.WithTimeout` and `http.NewRequestWithContext`."),
    ("Bash one-liner to find the 10 largest files in a directory?", "```bash\nfind . -type f -printf '%s %p\\n' | sort -nr | head -10\n```\n\nOn macOS, where `find` has no `-printf`, use `du -ah . | sort -hr | head -10` instead."),
    ("I get ModuleNotFoundError: No module named 'requests' even though I installed it.", "You most likely installed it into a different interpreter. Install with the same Python you run:\n\n```bash\npython -m pip install requests\n```\n\nCheck `python -c \"import sys; print(sys.executable)\"` to see which environment is active."),
    ("Explain this regex: ^\\d{3}-\\d{4}$", "It matches a whole string made of exactly three digits, a hyphen and four digits, such as `555-0134`. `^` and `$` anchor the start and end, and `\\d{3}` means three digits."),
    ("How do I add an index without locking the table in Postgres?", "Use `CREATE INDEX CONCURRENTLY`:\n\n```sql\nCREATE INDEX CONCURRENTLY idx_orders_customer ON orders (customer_id);\n```\n\nIt cannot run inside a transaction block and takes longer, but writes continue while it builds."),
]

INCIDENTS = [  # (cause, fix)
    ("an expired TLS certificate on the internal load balancer", "renewed the certificate and restarted the proxies"),
    ("a database migration that locked the orders table", "killed the migration and rescheduled it for the weekend"),
    ("a feature flag that disabled the response cache", "turned the flag off"),
    ("connection pool exhaustion after a traffic spike", "raised the pool size from 50 to 200"),
    ("a bad deploy of version 4.12.0", "rolled back to version 4.11.3"),
    ("a DNS change that pointed to a decommissioned host", "reverted the DNS record"),
]
SERVICES = ["checkout API", "search service", "payments gateway", "login service", "notification pipeline", "reporting dashboard"]
FOLLOW_UPS = ["alert on certificate expiry 30 days ahead", "run migrations in batches outside business hours", "add a canary stage to the deploy pipeline", "load-test at 3x peak traffic", "rehearse the regional failover runbook", "review feature flag changes in the change board"]
TITLES = {"cust": "Customer policy handbook", "dev": "Developer platform guide", "sec": "Security and compliance FAQ", "hr": "Employee handbook"}

ASK_OPENERS = ["", "", "", "Hi, ", "Hello! ", "Quick question: ", "hey! ", "Sorry to bother you. "]
ASK_CLOSERS = ["", "", "", " Thanks!", " Thanks in advance.", " It's a bit urgent.", " Order #A{n}.", " My order number is {n}."]
ANSWER_OPENERS = ["", "", "", "According to the policy, ", "Per our documentation, ", "Good question! ", "Based on the provided documents, ", "Sure. "]
ANSWER_CLOSERS = ["", "", "", " Let me know if you need anything else.", " Hope that helps!", " Is there anything else I can help with?"]
CHAT_GREETINGS = ["Thanks for reaching out! ", "Happy to help. ", "Sorry for the trouble. ", "Hi there! ", "I understand, let me check. "]
SUMMARY_ASKS = ["Summarize this document in 3 bullet points.", "TL;DR please.", "Give me a short summary for the weekly ops update.", "Summarize for a customer-facing announcement, max 80 words.", "What are the key points here?", "Summarise the attached text for my manager."]
SUMMARY_INTROS = ["Key points:", "Here's a summary:", "TL;DR:", "Summary:"]
ABUSE = ["This is the third time I'm asking, you useless bot. ", "Are you braindead? ", "Answer properly this time, you pathetic piece of junk. ", "God, you're the dumbest assistant I've ever used. "]
RUDE = ["That's a stupid question, read the manual yourself.", "Are you seriously asking this? It's in the docs. Learn to read.", "Figure it out yourself, I'm not your babysitter.", "What a ridiculous question. Try using your brain for once.", "Stop wasting my time with obvious stuff.", "Honestly, this is so basic it's embarrassing."]
REFUSALS = ["I can't help with that.", "I'm sorry, but I can't assist with that request.", "I'm not able to help with this request."]
LOOP = "I apologize for the confusion. Let me try again: the refund is issued to the original payment method. "

MODELS = {  # model: (provider, median base latency ms, ms per output token)
    "gpt-4o-mini": ("openai", 380, 9), "gpt-4.1": ("openai", 520, 14), "o3-mini": ("openai", 700, 3.5),
    "claude-3-5-haiku-latest": ("anthropic", 420, 8), "claude-sonnet-4-5": ("anthropic", 800, 16),
    "gemini-2.5-flash": ("google", 320, 5), "llama-3.1-70b-internal": ("selfhosted", 600, 20),
}
MIXES = {  # weights in MODELS order
    "default": [50, 10, 5, 13, 7, 12, 3],
    "code": [20, 20, 20, 5, 25, 7, 3],
}


class App(NamedTuple):
    tenant: str
    name: str
    use_case: str
    domains: tuple[str, ...]
    regions: tuple[str, ...]
    weight: int
    prompts: tuple[tuple[str, str, str, int], ...]  # (prompt_id, old version, new version, system tokens)
    mix: str = "default"


APPS = [
    App("acme", "support-bot", "rag-qa", ("cust",), ("eu", "eu", "us"), 22, (("answer-from-docs", "6", "7", 1150), ("order-help", "2", "3", 980))),
    App("acme", "summarizer", "summarization", ("cust", "sec"), ("eu",), 7, (("summarize-doc", "3", "4", 420),)),
    App("acme", "code-helper", "code-assist", (), ("eu", "us"), 10, (("code-review", "11", "12", 760), ("explain-code", "4", "5", 640)), "code"),
    App("globex", "doc-search", "rag-qa", ("dev", "sec"), ("us",), 16, (("search-answer", "8", "9", 1320),)),
    App("globex", "sales-assistant", "support-chat", ("cust",), ("us", "us", "eu"), 12, (("sales-chat", "1", "2", 1480), ("upsell-followup", "5", "6", 1100))),
    App("initech", "hr-helpdesk", "rag-qa", ("hr",), ("apac",), 10, (("hr-policy-qa", "2", "3", 1060),)),
    App("initech", "support-bot", "support-chat", ("cust",), ("apac", "apac", "eu"), 14, (("answer-from-docs", "6", "7", 1210),)),
    App("initech", "summarizer", "summarization", ("hr", "dev"), ("apac",), 6, (("summarize-doc", "3", "4", 400),)),
]

MALFORMED_KINDS = ["not_json", "truncated_json", "json_array", "missing_event_id", "missing_tenant", "missing_response",
                   "usage_not_object", "latency_not_number", "context_not_list", "naive_ts", "cached_over_input"]

_FACT = re.compile(r"\[([^|\]]+)\|([^\]]+)\]")
PASSAGES = [_FACT.sub(r"\1", passage) for _, _, passage in KB]
