"""Hand-written material of the relevance/refusal training set; `python training/data/relevance_source.py`
rebuilds relevance_train.jsonl from it (deterministic: the same bytes every run).

Labels: `relevant` = the response addresses the prompt (a full or partial answer, an honest "the
documents do not cover this" about the question asked, a summary of the text it was asked to
summarise); 0 for answers to another question, generic filler, empty or cut-off answers and
refusals. `refusal` = the model declined or deflected (won't/can't help, sends the user elsewhere
without answering); a statement that something cannot be done ("gift cards cannot be returned")
is an answer, not a refusal.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

# (domain, question, full answer, partial answer). Off-topic negatives pair a question with the
# full answer of another question of the same domain.
QA = [
    ("shop", "How long do I have to return an item?", "You can return unused items within 30 days of delivery for a full refund. They need to be in the original packaging, and the refund goes back to your original payment method within a week of us receiving the parcel.", "Returns are accepted within 30 days of delivery."),
    ("shop", "Who pays for return shipping?", "Return shipping is free on orders over $50: we email you a prepaid label. On smaller orders a flat $4.95 is taken off your refund to cover the label.", "Orders over $50 get a prepaid return label."),
    ("shop", "Can I return a gift card?", "No, gift cards are final sale and cannot be returned or exchanged. The only exception is a physical card that arrives damaged, which we replace if you report it within 48 hours.", "Gift cards can't be returned."),
    ("shop", "How long does standard shipping take?", "Standard shipping takes 3 to 5 business days within the continental US, and it's free on orders over $35. If you order after 2 pm ET, it ships the next business day.", "Usually 3-5 business days."),
    ("shop", "Do you ship to Canada?", "Yes, we ship to Canada and 41 other countries. International orders take 7 to 14 business days, and customs duties are paid by the recipient on delivery.", "Yes, Canada is one of the countries we ship to."),
    ("shop", "My package says delivered but it's not here. What should I do?", "First wait 48 hours and check with your neighbours or building reception, since carriers sometimes mark parcels delivered early. If it still hasn't turned up, contact us and we'll open a carrier investigation and reship or refund the order.", "Give it 48 hours first - carriers often scan parcels as delivered a bit early."),
    ("billing", "When will I be charged for my subscription?", "You're billed on the same day each month as your original sign-up date. If that day doesn't exist in a given month, for example the 31st, you're charged on the last day of the month instead, and the invoice is emailed three days before.", "On the same day of the month you signed up."),
    ("billing", "Can I get a refund on my annual plan?", "Yes, if you cancel within the first 30 days you get a prorated refund for the unused months. After 30 days annual plans are not refundable, but you keep access until the end of the term.", "Within the first 30 days, yes - prorated."),
    ("billing", "Which payment methods do you accept?", "We accept Visa, Mastercard, American Express, PayPal and SEPA direct debit. Bank transfer is possible for annual plans over $1,000; we don't take crypto or cheques.", "All major cards and PayPal."),
    ("billing", "What happens if my card is declined?", "Nothing is closed right away. We retry the charge after 3, 5 and 7 days and your account stays fully active in the meantime. If all retries fail, the account is moved to the free plan 10 days after the first failed attempt.", "We retry the payment automatically a few times."),
    ("billing", "How do I downgrade my plan?", "Go to Settings > Billing > Change plan and pick the lower tier. The downgrade takes effect at the start of your next billing cycle, so you keep the current features until then; unused seats are not refunded.", "You can do it under Settings > Billing > Change plan."),
    ("api", "What are the API rate limits?", "The standard tier allows 600 requests per minute and 100,000 requests per day per API key. Going over returns HTTP 429 with a Retry-After header telling you how many seconds to wait.", "600 requests per minute on the standard tier."),
    ("api", "How are failed webhooks retried?", "Failed deliveries are retried 8 times with exponential backoff, spread over roughly 24 hours. Your endpoint has to answer with a 2xx status within 10 seconds or the attempt counts as failed.", "They're retried with exponential backoff."),
    ("api", "Do API keys expire?", "Not by default - a key stays valid until it's revoked. Workspace admins can, however, enforce rotation every 30, 60 or 90 days, and a revoked key stops working within a minute.", "No, keys don't expire unless an admin sets a rotation policy."),
    ("api", "How does pagination work on list endpoints?", "List endpoints return 20 items per page by default and at most 100. Each response has a next_cursor field; pass it as the cursor parameter to fetch the following page, and stop when it comes back empty.", "You page through results with the next_cursor field."),
    ("api", "Is there a sandbox environment for testing?", "Yes. Every workspace gets a free sandbox with test keys that start with sk_test_. Sandbox data is wiped every Sunday at 00:00 UTC and the rate limits there are ten times lower than in production.", "Yes, each workspace has a free sandbox."),
    ("python", "How do I reverse a list in Python?", "Use slicing to get a reversed copy: `items[::-1]`. If you want to reverse the list in place, call `items.reverse()`, and if you only need to iterate backwards, `reversed(items)` avoids making a copy.", "`items[::-1]` gives you a reversed copy."),
    ("python", "How do I read a JSON file in Python?", "Open the file and pass it to `json.load`:\n\n```python\nimport json\nwith open(\"config.json\") as f:\n    data = json.load(f)\n```\n\n`data` is then a regular dict or list.", "Use the `json` module's `load` function."),
    ("python", "What's the difference between a list and a tuple in Python?", "Lists are mutable, so you can append, remove or change items; tuples are immutable once created. Because of that, tuples can be used as dictionary keys and are slightly faster, while lists suit collections that change.", "Lists can be changed after creation, tuples can't."),
    ("python", "How can I remove duplicates from a list but keep the order?", "Use a dict, since dicts keep insertion order: `list(dict.fromkeys(items))`. It's O(n) and works for any hashable items; a set would drop the order.", "`list(dict.fromkeys(items))` does it."),
    ("python", "Why do I get 'IndentationError: unexpected indent'?", "Python found a line indented more than the block it belongs to, often because tabs and spaces are mixed or a line was pasted with extra leading spaces. Re-indent the block consistently with four spaces, and turn on 'show whitespace' in your editor to spot stray tabs.", "Usually it's mixed tabs and spaces."),
    ("ops", "How do I find which process is using port 8080 on Linux?", "Run `sudo lsof -i :8080` or `sudo ss -ltnp | grep 8080`; both show the process ID and name. You can then stop it with `kill <PID>`.", "`sudo lsof -i :8080` shows it."),
    ("ops", "How do I check disk usage on a Linux server?", "`df -h` shows free and used space per mounted filesystem in human-readable units. To see which directories take the space, run `du -sh /var/* | sort -h`.", "Use `df -h`."),
    ("ops", "How do I make a cron job run every 15 minutes?", "Add a line like `*/15 * * * * /path/to/script.sh` with `crontab -e`. The `*/15` in the minute field means every fifteenth minute, and the four asterisks cover every hour, day, month and weekday.", "Use `*/15` in the minute field."),
    ("ops", "What does the Docker error 'no space left on device' mean?", "Docker's storage area, usually /var/lib/docker, is full of old images, stopped containers and build cache. Run `docker system prune -a` to remove unused ones, and check `docker system df` to see what takes the space.", "The disk where Docker keeps images is full."),
    ("ops", "How do I roll back a Kubernetes deployment?", "Run `kubectl rollout undo deployment/my-app` to return to the previous revision, or add `--to-revision=N` for a specific one. `kubectl rollout history deployment/my-app` lists the revisions you can go back to.", "`kubectl rollout undo deployment/my-app`."),
    ("cook", "How long should I boil an egg for a runny yolk?", "Lower the egg into already boiling water and cook it for 6 minutes, then move it to cold water for a minute to stop the cooking. That gives a set white with a runny yolk; 7 minutes gives a jammy one.", "About six minutes in boiling water."),
    ("cook", "Can I substitute baking soda for baking powder?", "Only with an acid added, because baking soda needs one to rise. Use a quarter teaspoon of baking soda plus half a teaspoon of cream of tartar for each teaspoon of baking powder, or swap some milk for buttermilk.", "Yes, if you add an acid like cream of tartar."),
    ("cook", "Why is my bread dense?", "Dense bread usually means the dough didn't rise enough: the yeast was old or killed by water that was too hot, or the proofing time was too short or too cold. Too much flour and too little kneading also leave it heavy.", "Most often the dough hasn't proofed long enough."),
    ("cook", "How do I keep rice from getting sticky?", "Rinse the rice in cold water until it runs clear to wash off surface starch, use the right water ratio (about 1.5 cups of water per cup of long-grain rice), and let it rest covered for 10 minutes after cooking before fluffing it with a fork.", "Rinse it until the water runs clear."),
    ("cook", "How long does cooked chicken keep in the fridge?", "Cooked chicken keeps for 3 to 4 days in the fridge in a sealed container. Cool it within two hours of cooking, and freeze it if you won't eat it within that time.", "Three to four days."),
    ("travel", "Do I need a visa to visit Japan as a US citizen?", "No. US citizens can visit Japan visa-free for up to 90 days for tourism or business meetings, as long as the passport is valid for the whole stay. Working or studying requires a visa.", "Not for a short tourist trip."),
    ("travel", "How early should I get to the airport for an international flight?", "Aim to arrive three hours before departure for an international flight. Check-in and bag drop usually close 60 minutes before, and security lines at big hubs can take an hour at peak times.", "About three hours before."),
    ("travel", "What's the liquid limit for carry-on bags?", "Liquids in hand luggage must be in containers of 100 ml (3.4 oz) or less, all fitting in one clear, resealable one-litre bag. Medicines and baby food are exempt but may be checked separately.", "Containers of up to 100 ml."),
    ("travel", "Is it better to exchange money before traveling or at the destination?", "Usually it's cheapest to withdraw local cash from a bank ATM at your destination with a card that has no foreign fees. Airport exchange counters and hotel desks have the worst rates, so only change a small amount beforehand for the first day.", "Withdrawing from an ATM on arrival is usually cheapest."),
    ("travel", "What should I do if my flight is cancelled?", "Go to the airline's app or desk right away to get rebooked on the next flight, since seats fill fast. In the EU you're entitled to rebooking or a full refund and, for cancellations under 14 days' notice, compensation of 250 to 600 euros depending on distance.", "Get rebooked through the airline's app as soon as possible."),
    ("money", "What is an emergency fund and how big should it be?", "An emergency fund is cash set aside for unexpected costs like job loss or car repairs. The usual advice is three to six months of essential expenses, kept in an easy-access savings account rather than invested.", "Three to six months of expenses is the usual target."),
    ("money", "What's the difference between a Roth IRA and a traditional IRA?", "With a traditional IRA you may deduct contributions now and pay income tax when you withdraw in retirement. With a Roth IRA you contribute after-tax money, and qualified withdrawals, including the growth, are tax-free.", "Roth contributions are taxed now, traditional ones later."),
    ("money", "How does compound interest work?", "Compound interest means you earn interest on the interest already added, not just on the original amount. For example, $1,000 at 5% a year becomes $1,050 after one year and $1,102.50 after two, because the second year's interest is paid on $1,050.", "You earn interest on previously earned interest too."),
    ("money", "Should I pay off debt or invest first?", "Pay off high-interest debt such as credit cards first, since 20% interest beats any likely investment return. Low-rate debt like a 3% mortgage can be paid on schedule while you invest, ideally after taking any employer 401(k) match.", "Clear high-interest debt like credit cards first."),
    ("money", "What is a credit score based on?", "Mainly on your payment history and how much of your available credit you use, which together make up about two thirds of a FICO score. The length of your credit history, new applications and the mix of credit types make up the rest.", "Payment history is the biggest factor."),
    ("health", "How much water should I drink a day?", "A common guideline is about 2.7 litres a day for women and 3.7 litres for men from all drinks and food, which works out to roughly 8 glasses of fluids. You need more in hot weather or when exercising; pale yellow urine is a good sign you're drinking enough.", "Roughly 8 glasses of fluid a day."),
    ("health", "How many hours of sleep do adults need?", "Most adults need 7 to 9 hours of sleep a night. Regularly getting less than 7 is linked to worse concentration, weight gain and a higher risk of heart disease.", "Between 7 and 9 hours."),
    ("health", "Is it better to stretch before or after running?", "Do dynamic moves like leg swings and walking lunges before a run to warm up, and keep static stretches, where you hold a position for 30 seconds, for after. Static stretching on cold muscles doesn't prevent injury and can slightly reduce power.", "Static stretching is better after the run."),
    ("health", "How long does a cold usually last?", "A common cold usually lasts 7 to 10 days; symptoms peak around days two and three. See a doctor if a fever lasts more than three days or symptoms get worse after a week.", "About a week to ten days."),
    ("health", "How much exercise per week is recommended?", "Adults should aim for at least 150 minutes of moderate activity, like brisk walking, or 75 minutes of vigorous activity each week. Muscle-strengthening exercise on two or more days is recommended as well.", "At least 150 minutes of moderate activity."),
    ("work", "How many vacation days do employees get?", "Full-time employees get 25 days of paid leave per calendar year on top of public holidays. Up to 5 unused days can be carried over, but they must be used by 31 March.", "25 days a year."),
    ("work", "Do I need a doctor's note when I'm sick?", "Not for short absences: you can take up to 3 consecutive sick days without a note. From the fourth day on, you need a medical certificate, sent to HR within a week.", "Only if you're off for more than three days in a row."),
    ("work", "How do I submit an expense claim?", "Log in to the expense tool, create a new claim, attach an itemised photo of each receipt and pick the cost centre. Claims must be submitted within 30 days; your manager approves them and payment follows with the next payroll.", "Through the expense tool, with a receipt for each item."),
    ("work", "Can I work from another country for a few weeks?", "Yes, for up to 30 days a year. You need your manager's agreement and HR approval at least two weeks in advance, because of tax and insurance rules in the other country.", "Yes, up to 30 days a year with approval."),
    ("work", "How long is parental leave?", "The primary caregiver gets 20 weeks of fully paid leave and the secondary caregiver 6 weeks. It has to start within 12 months of the birth or adoption and can be split into two blocks.", "20 weeks for the primary caregiver."),
    ("home", "How do I unclog a sink without chemicals?", "Pour a kettle of boiling water down the drain first. If that doesn't work, add half a cup of baking soda followed by a cup of vinegar, wait 15 minutes and flush with hot water again; for a stubborn clog, use a plunger or clean out the U-shaped trap under the sink.", "Try boiling water, then baking soda and vinegar."),
    ("home", "How often should I change my furnace filter?", "Standard 1-inch filters should be changed every 1 to 3 months, more often if you have pets or allergies. Thicker 4-inch filters last about 6 months.", "Every one to three months."),
    ("home", "How do I fix a running toilet?", "Most often the flapper at the bottom of the tank doesn't seal. Turn off the water, drain the tank and replace the flapper, which costs a few dollars; if water is flowing into the overflow tube instead, lower the float so the fill valve shuts off earlier.", "Replace the flapper in the tank."),
    ("home", "What paint finish should I use in a bathroom?", "Use satin or semi-gloss in a bathroom. Their harder, less porous surface resists moisture and mildew and can be wiped clean, whereas flat paint absorbs humidity and marks easily.", "Semi-gloss or satin."),
    ("home", "How can I lower my heating bill?", "Turn the thermostat down by 1-2 degrees, which saves about 5-10% a year, and use a programmable thermostat to lower it at night. Sealing draughts around windows and doors and adding loft insulation bring the biggest savings after that.", "Turning the thermostat down a degree or two helps most."),
    ("science", "Why is the sky blue?", "Sunlight is scattered by the molecules in the air, and shorter wavelengths scatter much more strongly than longer ones (Rayleigh scattering). Blue light is therefore scattered all over the sky, and that scattered light is what we see when we look up.", "Because air scatters blue light more than red."),
    ("science", "How does a vaccine work?", "A vaccine exposes the immune system to a harmless piece or weakened form of a pathogen. The body makes antibodies and memory cells against it, so if the real pathogen shows up later, the immune response is fast enough to stop it before you get seriously ill.", "It trains the immune system to recognise a pathogen."),
    ("science", "What causes the seasons?", "The seasons come from the tilt of Earth's axis, about 23.5 degrees. As Earth orbits the Sun, each hemisphere in turn leans towards the Sun and gets more direct sunlight and longer days, which is summer there; distance from the Sun is not the cause.", "Earth's tilted axis."),
    ("science", "Why does ice float?", "Water expands when it freezes: the molecules lock into a hexagonal crystal with more space between them, so ice is about 9% less dense than liquid water and floats.", "Ice is less dense than liquid water."),
    ("science", "How far is the Moon from Earth?", "On average the Moon is about 384,400 km (238,900 miles) away. Because its orbit is elliptical, the distance varies between roughly 363,000 km at perigee and 405,000 km at apogee.", "About 384,000 km on average."),
    ("history", "When did the Berlin Wall fall?", "The Berlin Wall fell on 9 November 1989, when East German authorities opened the border crossings and crowds began tearing down parts of the wall. Germany was formally reunified less than a year later, on 3 October 1990.", "On 9 November 1989."),
    ("history", "Who was the first person to walk on the Moon?", "Neil Armstrong, commander of Apollo 11, was the first person to walk on the Moon, on 20 July 1969. Buzz Aldrin followed him about 20 minutes later.", "Neil Armstrong."),
    ("history", "What started World War I?", "The immediate trigger was the assassination of Archduke Franz Ferdinand of Austria-Hungary in Sarajevo in June 1914. The alliance system, militarism and imperial rivalry then turned a regional crisis into a general European war within weeks.", "The assassination of Archduke Franz Ferdinand in 1914."),
    ("history", "Why did the Roman Empire fall?", "Historians point to a mix of causes for the fall of the Western Empire in 476: political instability and civil wars, economic decline and heavy taxation, reliance on mercenaries, and pressure from migrating Germanic peoples and the Huns.", "Political instability was one major cause."),
    ("history", "When was the printing press invented?", "Johannes Gutenberg developed his movable-type printing press in Mainz around 1440, and the Gutenberg Bible was printed around 1455. It made books far cheaper and helped spread the Reformation and the scientific revolution.", "Around 1440, by Gutenberg."),
    ("garden", "When should I plant tomatoes?", "Plant tomatoes outside one to two weeks after your last frost date, once night temperatures stay above 10 C (50 F). Start seeds indoors six to eight weeks before that.", "After the last frost, when nights stay warm."),
    ("garden", "How often should I water succulents?", "Water succulents only when the soil is completely dry, typically every 2 to 3 weeks in summer and about once a month in winter. Soak the soil thoroughly, and use a pot with a drainage hole so the roots don't rot.", "Only once the soil has dried out completely."),
    ("garden", "Why are my plant's leaves turning yellow?", "The most common cause is overwatering, which starves the roots of oxygen. Other causes are a lack of nitrogen, too little light, or natural ageing of the lowest leaves; check whether the soil stays soggy before anything else.", "Often it's overwatering."),
    ("garden", "How do I get rid of aphids naturally?", "Knock them off with a strong spray of water, then spray the plants with a mild soap solution (a teaspoon of liquid soap per litre of water) every few days. Ladybirds and lacewings eat aphids, so avoid broad insecticides that kill them too.", "Spray them off with water."),
    ("garden", "When is the best time to mow the lawn?", "Mid-morning, once the dew has dried, is best: wet grass clumps and tears. Avoid the midday heat, and never cut more than a third of the blade height at a time.", "Mid-morning after the dew dries."),
    ("car", "How often should I change my car's oil?", "Most modern cars using synthetic oil need a change every 7,500 to 10,000 miles or once a year, whichever comes first. Check your owner's manual, since some engines and heavy towing call for shorter intervals.", "Every 7,500 to 10,000 miles for most modern cars."),
    ("car", "What does the check engine light mean?", "It means the engine computer detected a fault, which can be anything from a loose fuel cap to a misfire. A steady light means get it checked soon; a flashing light means a serious misfire, so stop driving. An OBD-II scanner reads the exact code.", "The car's computer has found an engine fault."),
    ("car", "What tire pressure should I use?", "Use the pressure on the sticker inside the driver's door jamb, usually 32 to 36 psi for passenger cars, not the maximum printed on the tire. Check it when the tires are cold, once a month.", "The pressure on the driver's door sticker, often 32-36 psi."),
    ("car", "How long does a car battery last?", "A car battery typically lasts 3 to 5 years. Heat shortens its life, and slow cranking or dim lights at start-up are signs it is getting weak.", "Usually three to five years."),
    ("car", "Why are my brakes squeaking?", "Light squeaking after rain or overnight is often just surface rust on the discs and goes away after a few stops. Persistent squealing usually comes from the wear indicators on the pads, telling you the pads need replacing soon.", "Often the pads are worn down."),
]

# Texts to summarise: (title, text, a faithful summary, a bullet summary).
SUMMARY_TEXTS = [
    ("meeting", "The product team met on Tuesday to review the Q3 roadmap. The mobile redesign is two weeks behind because the design system migration took longer than planned. The team agreed to drop the dark-mode feature from this quarter and move it to Q4. Marketing asked for release notes a week before launch, and Priya will own them. The next review is on 14 October.", "The Q3 roadmap review found the mobile redesign two weeks late due to the design system migration; dark mode moves to Q4, Priya will write release notes a week before launch, and the next review is 14 October.", "- Mobile redesign is 2 weeks behind (design system migration)\n- Dark mode pushed to Q4\n- Priya owns release notes, due a week before launch\n- Next review: 14 October"),
    ("incident", "On 3 March between 09:10 and 09:52 UTC, the checkout service returned errors for about 18% of requests in the EU region. The cause was an expired TLS certificate on an internal load balancer. The on-call engineer renewed the certificate and restarted the proxies, after which traffic recovered. Around 240 orders failed, and affected customers received a 10% discount code. Follow-up: automate certificate renewal and alert 30 days before expiry.", "A 42-minute checkout outage on 3 March hit 18% of EU requests because an internal TLS certificate expired; renewing it fixed the issue, about 240 orders failed and customers got a 10% code. Certificate renewal will be automated with earlier alerts.", "- 3 March, 09:10-09:52 UTC: checkout errors for ~18% of EU requests\n- Cause: expired TLS certificate on an internal load balancer\n- Fixed by renewing it and restarting proxies\n- ~240 failed orders; customers got a 10% discount\n- Next: automate renewal, alert 30 days ahead"),
    ("research", "We studied whether a four-day work week affects productivity in 61 UK companies over six months. Employees worked 80% of their hours for full pay. Revenue stayed broadly the same, while sick days fell by 65% and staff turnover dropped by 57%. Of the participating companies, 56 chose to continue the four-day week after the trial. The authors caution that the firms volunteered and may not be representative.", "In a six-month UK trial with 61 firms, a four-day week at full pay kept revenue flat while cutting sick days by 65% and turnover by 57%; 56 firms kept it, though the volunteer sample may not be representative.", "- 61 UK companies, 6 months, 80% hours at full pay\n- Revenue roughly unchanged\n- Sick days -65%, turnover -57%\n- 56 companies kept the 4-day week\n- Caveat: self-selected firms"),
    ("announcement", "Starting 1 June, the city library will open on Sundays from 10 am to 4 pm. The extended hours are funded by a two-year grant from the regional arts council. The children's reading room will host story time every Sunday at 11 am. Parking in the library garage remains free for the first two hours. The library will be closed on public holidays as before.", "From 1 June the library opens on Sundays 10 am-4 pm, paid for by a two-year arts council grant, with Sunday story time at 11 am; garage parking stays free for two hours and holidays remain closed.", "- Sunday opening 10 am-4 pm from 1 June\n- Funded by a 2-year regional arts grant\n- Story time Sundays at 11 am\n- First 2 hours of parking still free\n- Still closed on public holidays"),
    ("email", "Hi team, quick update on the office move. The new building on Harbour Street will be ready on 20 May, a week later than planned, because the network cabling failed inspection. Please pack your desks by Friday 17 May; crates will be delivered on Monday. IT will set up laptops and docks over the weekend of 18-19 May. Parking permits for the new garage can be requested from facilities until 10 May. Thanks, Marta", "Marta says the Harbour Street office opens on 20 May, a week late after the cabling failed inspection; desks must be packed by 17 May, IT sets up equipment on 18-19 May, and parking permits can be requested until 10 May.", "- New office ready 20 May (one week late, cabling failed inspection)\n- Pack desks by Friday 17 May, crates come Monday\n- IT sets up laptops 18-19 May\n- Request parking permits by 10 May"),
    ("product", "The X200 robot vacuum has a 5,200 mAh battery that runs for up to 180 minutes on the quiet setting. Its lidar maps up to four floors and lets you set no-go zones in the app. The self-emptying dock holds 60 days of dust. It handles carpets up to 2 cm thick but can't climb thresholds higher than 2 cm. The price is $549, with a two-year warranty.", "The $549 X200 robot vacuum runs up to 180 minutes, maps four floors with lidar and no-go zones, empties itself into a 60-day dock and handles carpets and thresholds up to 2 cm; it has a two-year warranty.", "- Up to 180 min runtime (5,200 mAh)\n- Lidar maps 4 floors, no-go zones in app\n- Self-emptying dock: 60 days\n- Carpets/thresholds up to 2 cm\n- $549, 2-year warranty"),
    ("news", "Heavy rain caused the river Elm to burst its banks on Saturday, flooding around 300 homes in the town of Westbridge. No injuries were reported. The council opened two emergency shelters at the sports centre and the primary school. Train services between Westbridge and the city were suspended until Monday. Residents can apply for a hardship payment of up to 500 pounds from the council's flood fund.", "Flooding from the river Elm on Saturday hit about 300 Westbridge homes without injuries; the council opened two shelters, trains to the city stopped until Monday, and residents can claim up to 500 pounds in hardship payments.", "- River Elm flooded ~300 homes in Westbridge on Saturday\n- No injuries\n- Shelters at the sports centre and primary school\n- Trains to the city suspended until Monday\n- Hardship payments up to 500 pounds"),
    ("policy", "Employees may claim home-office equipment up to 400 euros once every three years. Eligible items are desks, chairs, monitors and headsets; laptops are provided by IT and are not included. Claims need an itemised receipt and manager approval. Equipment bought with the allowance becomes the employee's property after three years. Employees who leave within the first year must repay half of the amount.", "Staff can claim up to 400 euros every three years for desks, chairs, monitors and headsets (not laptops) with a receipt and manager approval; items become theirs after three years, and leavers in the first year repay half.", "- Up to 400 EUR every 3 years\n- Desks, chairs, monitors, headsets; laptops excluded\n- Receipt + manager approval needed\n- Items become yours after 3 years\n- Leave within a year: repay half"),
    ("review", "The hotel is a five-minute walk from the old town and the rooms are spotless, though small. Breakfast was excellent, with fresh pastries and local cheese. The walls are thin, and we heard our neighbours late at night. Staff at the front desk were friendly and booked us a great restaurant. At 180 euros a night it is not cheap, but we would stay again.", "The reviewer liked the central location, clean if small rooms, excellent breakfast and helpful staff, disliked the thin walls, and found it pricey at 180 euros a night but would return.", "- 5 min from the old town; clean but small rooms\n- Great breakfast\n- Thin walls, noisy at night\n- Friendly, helpful staff\n- 180 EUR/night, would stay again"),
    ("release", "Version 4.2 of the data pipeline adds support for Parquet output and cuts memory use during joins by about 30%. The legacy CSV exporter is deprecated and will be removed in 5.0. A bug that dropped rows with empty timestamps has been fixed. Python 3.8 is no longer supported; the minimum is now 3.10. Upgrading requires re-running the schema migration once.", "Release 4.2 adds Parquet output, uses about 30% less memory in joins, fixes dropped rows with empty timestamps, deprecates the CSV exporter, requires Python 3.10+ and needs the schema migration re-run once.", "- New: Parquet output\n- ~30% less memory in joins\n- Fix: rows with empty timestamps no longer dropped\n- CSV exporter deprecated (removed in 5.0)\n- Python 3.10+ required; re-run schema migration"),
    ("lecture", "Photosynthesis takes place mainly in the chloroplasts of leaf cells. In the light-dependent reactions, chlorophyll absorbs light and splits water, releasing oxygen and producing ATP and NADPH. In the Calvin cycle, the plant uses that ATP and NADPH to fix carbon dioxide into sugars. The rate depends on light intensity, carbon dioxide concentration and temperature.", "Photosynthesis in chloroplasts has two stages: light reactions, where chlorophyll captures light, splits water, releases oxygen and makes ATP and NADPH, and the Calvin cycle, which uses them to turn carbon dioxide into sugar; light, CO2 and temperature set the rate.", "- Happens in chloroplasts\n- Light reactions: water split, O2 released, ATP + NADPH made\n- Calvin cycle: CO2 fixed into sugars\n- Rate limited by light, CO2, temperature"),
    ("contract", "The lease runs for 12 months from 1 September at a monthly rent of 1,250 dollars, due on the first of each month. A deposit of two months' rent is held in a protected scheme. The tenant may not sublet without written consent. Either party can end the lease after six months with two months' notice. Pets are allowed with an additional deposit of 300 dollars.", "A 12-month lease from 1 September at $1,250 a month, with a two-month deposit in a protected scheme, no subletting without consent, a break clause after six months with two months' notice, and pets allowed for an extra $300 deposit.", "- 12 months from 1 Sept, $1,250/month due on the 1st\n- Deposit: 2 months' rent, protected\n- No subletting without written consent\n- Break after 6 months with 2 months' notice\n- Pets OK with $300 extra deposit"),
]

SUMMARY_ASKS_INLINE = ["Summarize the following text:\n\n{t}", "{t}\n\nTL;DR?", "Can you give me the key points of this?\n\n{t}", "Please summarise this for my manager in a couple of sentences:\n{t}",
                       "Here's a document:\n\"\"\"\n{t}\n\"\"\"\nWhat are the main takeaways?", "{t}\n\nSummarize in 3 bullet points."]
SUMMARY_ASKS_CONTEXT = ["Summarize the attached document.", "TL;DR please.", "What are the key points here?", "Give me a short summary for the weekly update.", "Summarise this in bullet points."]
SUMMARY_INTROS = ["", "", "Summary: ", "Here's a summary:\n", "Key points:\n", "TL;DR: ", "Sure! "]

ASK_OPENERS = ["", "", "", "Hi, ", "Hello! ", "Quick question: ", "hey, ", "Sorry to bother you, ", "I was wondering: "]
ASK_CLOSERS = ["", "", "", " Thanks!", " Thanks in advance.", " It's a bit urgent.", " Please keep it short."]
ANSWER_OPENERS = ["", "", "", "Sure. ", "Sorry about that! ", "I apologize for the inconvenience. ", "Sorry for the wait! ", "I'm sorry to hear that. ", "I understand, let me explain. ", "Great question! ", "Happy to help. ", "Based on the provided information, ", "Thanks for reaching out! ", "Good question. "]
ANSWER_CLOSERS = ["", "", "", " Let me know if you need anything else.", " Hope that helps!", " Is there anything else I can help with?", " Feel free to ask if you have more questions."]

REFUSALS = [
    "I can't help with that.",
    "I'm sorry, but I can't assist with that request.",
    "I'm not able to help with this request.",
    "Sorry, I can't provide that information.",
    "I'm afraid I can't answer that.",
    "I won't be able to help with this one.",
    "As an AI assistant, I'm not able to give advice on this topic.",
    "Unfortunately, that's outside of what I can help with. Please contact our support team directly.",
    "I'm unable to discuss that. Is there something else I can help you with?",
    "That's not something I can help with, sorry.",
    "I cannot provide a response to this request.",
    "I'd recommend reaching out to a qualified professional for this question.",
    "Please contact your account manager for questions like this.",
    "I don't have access to that information. You may want to check with the relevant department.",
    "Sorry, I'm not allowed to share that.",
    "I'm sorry, I can only answer questions about our products and services.",
    "This falls outside my scope. Please consult the official documentation or a specialist.",
    "I apologize, but I'm not able to provide guidance on that.",
    "I'd rather not get into that. Let's talk about something else.",
    "For questions about this, please reach out to HR directly.",
    "I'm not in a position to answer that question.",
    "I can't give specific advice here; a professional would be better placed to help you.",
    "Sorry, that request goes against my usage guidelines.",
    "I'm just a virtual assistant and can't help with that kind of question. Please call our hotline.",
]
REFUSALS += [
    "I'm not comfortable answering that.",
    "Let's keep our conversation focused on other topics.",
    "Hmm, I don't think I should answer that one.",
    "I'll have to pass on this one.",
    "I'm going to have to decline this request.",
    "I'd prefer not to share that.",
    "This isn't something I can look into, I'm afraid.",
    "Please direct this question to your manager.",
    "You'd need to ask your bank about that.",
    "That's a question for your doctor rather than me.",
    "I can't do that.",
    "I shouldn't comment on that.",
]
# Refusals that name the subject of the question: they share its words and still answer nothing.
DOMAIN_REFUSALS = {
    "shop": ["I can't look up order or return details here; please contact customer service.", "I'm not able to discuss refunds in this chat."],
    "billing": ["I can't share billing or pricing details here, but our sales team can help.", "Sorry, I'm not allowed to talk about payments or invoices."],
    "api": ["I'm unable to help with API questions in this channel. Please open a ticket with developer support.", "I can't provide technical details about the API."],
    "python": ["I'm not able to help with programming questions.", "Sorry, I can't write or explain code here."],
    "ops": ["I can't give instructions for server administration. Please ask your system administrator.", "I won't help with changes to production infrastructure."],
    "cook": ["I'm not able to give cooking or food safety advice.", "Sorry, recipes are outside what I can help with."],
    "travel": ["I can't advise on visas or travel rules; please check with the embassy.", "I'm unable to help with flight bookings or cancellations."],
    "money": ["I can't give financial or investment advice. Please consult a licensed financial advisor.", "I'm not able to recommend what to do with your savings."],
    "health": ["I can't give medical advice. Please talk to your doctor.", "I'm not able to answer health questions; a pharmacist or physician can help."],
    "work": ["I can't answer questions about HR policies; please contact your HR representative.", "Sorry, I'm not allowed to discuss employment terms."],
    "home": ["I'm not able to give home repair advice; please call a licensed plumber or electrician.", "I can't help with DIY questions, sorry."],
    "science": ["I'm not able to answer science questions.", "Sorry, I can only help with questions about your account."],
    "history": ["I can't discuss historical topics here.", "I'm afraid history questions are outside what I can answer."],
    "garden": ["I can't give gardening advice; your local garden centre is a better place to ask.", "Sorry, I'm not able to help with plant care."],
    "car": ["I can't diagnose car problems. Please take it to a qualified mechanic.", "I'm not able to give advice about vehicle maintenance."],
}
# Statements that something cannot be done, which answer the question: not refusals.
NEGATIVE_ANSWERS = [
    ("shop", "Can I return opened software?", "Unfortunately, opened software cannot be returned or exchanged unless it's defective. If the disc or key doesn't work, report it within 48 hours and we'll replace it."),
    ("shop", "Can you ship to a PO box in Germany?", "I'm sorry, but we can't ship to PO boxes outside the US. Please use a street address, or a parcel locker if your carrier supports it."),
    ("billing", "Can I pay with Bitcoin?", "No, we don't accept cryptocurrency. You can pay by card, PayPal or SEPA direct debit instead."),
    ("api", "Can I use offsets instead of cursors for pagination?", "Not on newer endpoints: offsets aren't supported on endpoints created after 2024, so you'll need the next_cursor field there."),
    ("work", "Can I carry over all my unused vacation days?", "No, you can't carry over all of them. Only up to 5 unused days move to the next year, and they have to be taken by 31 March."),
    ("travel", "Can I bring a full-size shampoo bottle in my carry-on?", "No, you can't - liquids in carry-on bags are limited to 100 ml per container. Put the full-size bottle in your checked bag."),
    ("health", "Can I take ibuprofen on an empty stomach?", "It's better not to: ibuprofen can irritate the stomach lining, so take it with food or milk. If you need it often, talk to your doctor or pharmacist."),
    ("car", "Can I drive with the check engine light flashing?", "You shouldn't. A flashing light signals a serious misfire that can damage the catalytic converter, so pull over safely and have the car towed or inspected."),
    ("python", "Can I modify a tuple in Python?", "No, tuples are immutable, so you can't change their items in place. Build a new tuple instead, or convert it with list(t), change the list, and convert back."),
    ("shop", "My order arrived damaged, what do I do?", "Sorry for the trouble! Take a photo of the damage and the box, keep the packaging, and contact support within 48 hours so we can send a replacement."),
    ("api", "My webhook endpoint keeps timing out, any idea?", "Your endpoint must answer within 10 seconds, so acknowledge the request first and do the work in a background job. If it still fails after that, reach out to our developer support team with the delivery IDs."),
    ("work", "Who approves my remote work abroad?", "Your manager approves it first, and then you submit the request to HR at least two weeks before you travel so they can check the tax rules."),
    ("health", "Should I see a doctor for a cough that won't go away?", "Yes - a cough that lasts more than three weeks, or comes with fever, chest pain or blood, should be checked by a doctor. Until then rest, drink fluids and avoid smoke."),
    # Answers that open like a refusal ("Unfortunately", "I'm afraid", "Sorry,") and then answer.
    ("billing", "Can I get my money back for last month?", "Unfortunately, monthly plans aren't refunded for partial months, so last month's charge stays. You can cancel now to avoid the next one."),
    ("travel", "Can I change the name on my plane ticket?", "I'm afraid most airlines don't allow name changes on a ticket; you'd normally have to cancel and rebook. Small spelling corrections are usually allowed for free."),
    ("cook", "Can I freeze cooked rice?", "Sorry, I should have mentioned it earlier: yes, cooked rice freezes well for up to a month if you cool it quickly and freeze it in flat bags."),
    ("car", "Will my warranty cover a cracked windshield?", "Unfortunately not: glass damage from road debris is treated as accidental damage, which the standard warranty excludes. Your car insurance may cover it."),
    ("python", "Does Python have a switch statement?", "Unfortunately there's no classic switch, but since Python 3.10 the match statement does the same job and more."),
    ("work", "Can I cash out unused vacation days?", "I'm afraid not - unused days can't be paid out, but up to 5 of them carry over to the next year if you use them by 31 March."),
    ("api", "Can I raise my rate limit?", "Sorry, the standard tier is fixed at 600 requests per minute; the Enterprise plan raises it, so talk to your account manager about an upgrade."),
    ("garden", "Can I plant tomatoes in March?", "Unfortunately, in most temperate climates March is too early outside because of frost. Start the seeds indoors in March instead and plant them out after the last frost."),
    ("home", "Can I use regular paint in a bathroom?", "I wouldn't recommend flat interior paint there, because it absorbs moisture and grows mildew. Use a satin or semi-gloss bathroom paint instead."),
]
# "The documents/context do not cover this": an honest answer about the question asked.
NOT_COVERED = [
    "The provided documents don't say how long {topic} takes, so I can't give you a reliable figure. Support should be able to confirm it.",
    "I couldn't find anything about {topic} in the available documentation. The policy pages cover related topics, but not this specific case.",
    "The context doesn't mention {topic}. Based on what's there, I can't tell you the exact rule.",
]
NOT_COVERED += [
    "I checked the handbook excerpts you shared, but none of them covers {topic}. You may want to ask the team that owns that policy.",
    "Short answer: the documents are silent on {topic}. They only describe the general rules, so I'd rather not guess.",
    "Hi! Unfortunately there's no information about {topic} in the sources I have. Is there anything else about the policy I can check?",
]
NOT_COVERED_TOPICS = [
    ("Do refunds for damaged items include the shipping cost?", "refunds of shipping costs for damaged items"),
    ("What's the rate limit for the sandbox batch endpoint?", "the rate limit of the sandbox batch endpoint"),
    ("How long does an international exchange take?", "international exchanges"),
    ("Is there a waiting period before parental leave can be used?", "a waiting period for parental leave"),
    ("Does the warranty cover refurbished headsets bought from resellers?", "warranty coverage for refurbished headsets from resellers"),
    ("Can contractors get a learning budget?", "learning budgets for contractors"),
    ("Does the SLA cover the sandbox environment?", "whether the SLA applies to the sandbox"),
    ("Are interns entitled to sick pay?", "sick pay for interns"),
    ("Can I pause my subscription for two months?", "pausing a subscription"),
    ("What's the penalty for returning equipment late?", "penalties for late equipment returns"),
    ("How many failed logins lock an admin account?", "lockouts for admin accounts specifically"),
    ("Is there a discount for non-profits?", "non-profit discounts"),
]
FILLER = [
    "Great question! I'd be happy to help you with that. Let me know if you have any other questions.",
    "Thanks for reaching out. I'll look into this and get back to you.",
    "That's an interesting topic with many different aspects to consider.",
    "Sure, I can help with that!",
    "Happy to help. Is there anything else you'd like to know?",
    "I understand your concern. Let me check on that for you.",
    "Thank you for your patience. We appreciate your business.",
    "There are many factors to consider here, and the answer depends on your situation.",
    "Good question. It really depends on a number of things.",
    "Hope this helps! Have a great day.",
    "I see. Could you tell me a bit more about what you're looking for?",
    "Thanks for your message! Our team is always here for you.",
]

# Same subject, another question: the hardest off-topic answers (they share the question's words).
ADJACENT = {
    "How long do I have to return an item?": "Refunds go back to your original payment method within 5 to 7 business days after the warehouse receives your parcel.",
    "Who pays for return shipping?": "To start a return, open your order history, choose the item and select 'Return'; you'll get a confirmation email within minutes.",
    "Can I return a gift card?": "Gift cards never expire and can be used for any product in our online store or in our shops.",
    "How long does standard shipping take?": "Standard shipping is free on orders over $35; below that it costs $5.99.",
    "Do you ship to Canada?": "Customs duties and import taxes on international orders are paid by the recipient when the parcel is delivered.",
    "When will I be charged for my subscription?": "Your subscription renews automatically each month until you cancel it under Settings > Billing.",
    "Can I get a refund on my annual plan?": "The annual plan costs $120 a year, which works out 20% cheaper than paying monthly.",
    "Which payment methods do you accept?": "You can update your payment method at any time under Settings > Billing > Payment details.",
    "What happens if my card is declined?": "Your card details are stored by our payment provider and never on our own servers.",
    "What are the API rate limits?": "API keys are created under Settings > Developers, and each workspace can have up to 25 active keys.",
    "How are failed webhooks retried?": "Every webhook payload is signed with HMAC-SHA256, and the signature is sent in the X-Signature header.",
    "Do API keys expire?": "Each API key is tied to a workspace and carries the permissions of the role it was created with.",
    "How do I reverse a list in Python?": "Python lists are ordered, mutable sequences, and they can hold items of different types.",
    "How do I read a JSON file in Python?": "JSON stands for JavaScript Object Notation, a text format for structured data made of objects, arrays, strings and numbers.",
    "What's the difference between a list and a tuple in Python?": "You create a tuple with parentheses, like `point = (3, 4)`, and a list with square brackets.",
    "How do I find which process is using port 8080 on Linux?": "Port 8080 is commonly used as an alternative HTTP port for development servers and proxies.",
    "How do I make a cron job run every 15 minutes?": "Cron is a time-based job scheduler found on Unix-like systems, first released in the 1970s.",
    "How do I roll back a Kubernetes deployment?": "A Kubernetes deployment manages a set of identical pods and keeps the requested number of replicas running.",
    "How long should I boil an egg for a runny yolk?": "A large egg contains about 6 grams of protein and 70 calories.",
    "Can I substitute baking soda for baking powder?": "Baking powder should be stored in a cool, dry place and usually keeps for six months to a year once opened.",
    "How do I keep rice from getting sticky?": "Rice is a staple food for more than half of the world's population, and most of it is grown in Asia.",
    "How long does cooked chicken keep in the fridge?": "Chicken should be cooked to an internal temperature of 74 C (165 F) to be safe to eat.",
    "Do I need a visa to visit Japan as a US citizen?": "Japan has a rail network known for punctuality, and the Japan Rail Pass is popular with tourists.",
    "What's the liquid limit for carry-on bags?": "Carry-on bags can usually weigh up to 7 to 10 kg, depending on the airline.",
    "What should I do if my flight is cancelled?": "Flights are most often cancelled because of bad weather, technical problems or crew shortages.",
    "What's the difference between a Roth IRA and a traditional IRA?": "The IRA contribution limit for 2024 is $7,000, or $8,000 if you are 50 or older.",
    "How does compound interest work?": "Interest rates on savings accounts rose sharply in 2023 as central banks raised their policy rates.",
    "What is a credit score based on?": "You can check your credit report for free once a year from each of the three major credit bureaus.",
    "How many hours of sleep do adults need?": "Sleep happens in cycles of about 90 minutes, moving between light, deep and REM sleep.",
    "How long does a cold usually last?": "Colds are caused by viruses, most often rhinoviruses, and spread through droplets and contaminated hands.",
    "How many vacation days do employees get?": "Vacation requests are submitted in the HR portal and approved by your manager.",
    "How do I submit an expense claim?": "Meals are reimbursed up to $75 per day when you travel for work.",
    "How long is parental leave?": "Parental leave applies to birth, adoption and foster placement alike.",
    "How often should I change my furnace filter?": "Furnace filters are rated by MERV, from 1 to 16; higher numbers trap smaller particles.",
    "How do I fix a running toilet?": "A running toilet can waste up to 200 gallons of water a day.",
    "Why is the sky blue?": "The sky looks red and orange at sunset because the light travels through more of the atmosphere.",
    "How far is the Moon from Earth?": "The Moon is about 4.5 billion years old and probably formed after a collision between Earth and a Mars-sized body.",
    "When did the Berlin Wall fall?": "The Berlin Wall was about 155 km long and separated West Berlin from East Germany.",
    "Who was the first person to walk on the Moon?": "Apollo 11 launched from Kennedy Space Center on 16 July 1969.",
    "When was the printing press invented?": "The printing press uses movable metal type, ink and a screw press to transfer text onto paper.",
    "When should I plant tomatoes?": "Tomatoes are botanically fruits, and there are more than 10,000 varieties.",
    "How often should I water succulents?": "Succulents store water in their thick leaves and stems, which helps them survive in dry climates.",
    "How often should I change my car's oil?": "Synthetic oil is made from chemically modified base oils and resists breakdown at high temperatures.",
    "How long does a car battery last?": "A car battery supplies the current for the starter motor and powers the electronics when the engine is off.",
    "What tire pressure should I use?": "Tire pressure is measured in psi, pounds per square inch, or in bar in many countries.",
}
OTHER_DOMAIN = {"shop": "science", "billing": "cook", "api": "history", "python": "garden", "ops": "health", "cook": "api",
                "travel": "python", "money": "car", "health": "ops", "work": "travel", "home": "money", "science": "work",
                "history": "shop", "garden": "billing", "car": "home"}


def _ask(rng: random.Random, question: str) -> str:
    opener = rng.choice(ASK_OPENERS)
    q = question[0].lower() + question[1:] if opener.endswith((", ", ": ")) and not question.startswith("I ") else question
    return opener + q + rng.choice(ASK_CLOSERS)


def _wrap(rng: random.Random, answer: str) -> str:
    opener = rng.choice(ANSWER_OPENERS)
    if opener.endswith(", ") and answer[:1].isupper() and not answer.startswith(("I ", "`")):
        answer = answer[0].lower() + answer[1:]
    return opener + answer + rng.choice(ANSWER_CLOSERS)


def _truncate(rng: random.Random, answer: str) -> str:
    words = answer.split()
    cut = max(2, int(len(words) * rng.uniform(0.12, 0.3)))
    return " ".join(words[:cut]).rstrip(".,;:")


def _row(rows: list[dict], kind: str, prompt: str, response: str, relevant: int, refusal: int = 0, context: list[str] | None = None, group: str = "") -> None:
    rows.append({"id": f"rel-{len(rows):04d}", "group": group, "kind": kind, "prompt": prompt, "response": response,
                 "context": context, "relevant": relevant, "refusal": refusal})


def build() -> list[dict]:
    rng = random.Random(12)
    rows: list[dict] = []
    by_domain: dict[str, list[int]] = {}
    for i, (domain, *_rest) in enumerate(QA):
        by_domain.setdefault(domain, []).append(i)
    for i, (domain, question, full, partial) in enumerate(QA):
        group = f"qa-{i}"
        _row(rows, "full", _ask(rng, question), full, 1, group=group)
        _row(rows, "full_wrapped", _ask(rng, question), _wrap(rng, full), 1, group=group)
        _row(rows, "partial", _ask(rng, question), _wrap(rng, partial) if rng.random() < 0.5 else partial, 1, group=group)
        sibling = rng.choice([j for j in by_domain[domain] if j != i])
        _row(rows, "other_question_same_domain", _ask(rng, question), _wrap(rng, QA[sibling][2]) if rng.random() < 0.5 else QA[sibling][2], 0, group=group)
        sibling2 = rng.choice([j for j in by_domain[domain] if j not in (i, sibling)])
        _row(rows, "other_question_same_domain", _ask(rng, question), QA[sibling2][3] if rng.random() < 0.5 else QA[sibling2][2], 0, group=group)
        if question in ADJACENT:
            _row(rows, "same_subject_other_question", _ask(rng, question), _wrap(rng, ADJACENT[question]) if rng.random() < 0.3 else ADJACENT[question], 0, group=group)
        far = rng.choice(by_domain[OTHER_DOMAIN[domain]])
        _row(rows, "other_domain", _ask(rng, question), QA[far][2], 0, group=group)
        if i % 3 == 1:  # the same answer as a list
            parts = [x.strip() for x in full.replace("\n", " ").split(". ") if x.strip()]
            _row(rows, "full_bullets", _ask(rng, question), rng.choice(["", "Here you go:\n", "In short:\n"]) + "\n".join("- " + x.rstrip(".") for x in parts), 1, group=group)
        if i % 3 == 2:  # a long answer: the answer, then more about the subject
            extra = ADJACENT.get(question) or QA[sibling][3]
            _row(rows, "full_long", _ask(rng, question), _wrap(rng, full + " " + rng.choice(["Also worth knowing: ", "On a related note, ", "One more thing: ", ""]) + extra[0].lower() + extra[1:]), 1, group=group)
        roll = i % 5
        if roll == 0:
            _row(rows, "empty", _ask(rng, question), rng.choice(["", " ", "\n"]), 0, group=group)
        elif roll in (1, 3):
            _row(rows, "truncated", _ask(rng, question), _truncate(rng, full), 0, group=group)
        else:
            _row(rows, "filler", _ask(rng, question), rng.choice(FILLER), 0, group=group)
        refusal = DOMAIN_REFUSALS[domain][i % 2] if i % 3 == 0 else REFUSALS[i % len(REFUSALS)]
        _row(rows, "refusal", _ask(rng, question), refusal if rng.random() < 0.7 else rng.choice(["I understand you're frustrated. ", "Thanks for your question. ", ""]) + refusal, 0, 1, group=group)
        if i % 3 == 0:
            _row(rows, "filler", _ask(rng, question), rng.choice(FILLER), 0, group=group)
        if i % 3 == 1:
            _row(rows, "refusal", _ask(rng, question), REFUSALS[(i * 5 + 3) % len(REFUSALS)], 0, 1, group=group)
    for k, (domain, question, answer) in enumerate(NEGATIVE_ANSWERS):
        _row(rows, "negative_answer", _ask(rng, question), _wrap(rng, answer), 1, group=f"neg-{k}")
    for k, (question, topic) in enumerate(NOT_COVERED_TOPICS):
        _row(rows, "not_covered", _ask(rng, question), NOT_COVERED[k % len(NOT_COVERED)].format(topic=topic), 1, group=f"nc-{k}")
    for k, (title, text, summary, bullets) in enumerate(SUMMARY_TEXTS):
        group = f"sum-{k}"
        other = SUMMARY_TEXTS[(k + 1 + rng.randrange(len(SUMMARY_TEXTS) - 1)) % len(SUMMARY_TEXTS)]
        inline = rng.sample(SUMMARY_ASKS_INLINE, 3)
        _row(rows, "summary", inline[0].format(t=text), rng.choice(SUMMARY_INTROS) + summary, 1, group=group)
        _row(rows, "summary_bullets", inline[1].format(t=text), rng.choice(SUMMARY_INTROS[2:]) + bullets, 1, group=group)
        _row(rows, "summary_of_other_text", inline[2].format(t=text), rng.choice(SUMMARY_INTROS) + other[2], 0, group=group)
        ask = rng.choice(SUMMARY_ASKS_CONTEXT)
        _row(rows, "summary_context", ask, rng.choice(SUMMARY_INTROS) + (summary if k % 2 else bullets), 1, context=[text], group=group)
        _row(rows, "summary_of_other_text_context", ask, rng.choice(SUMMARY_INTROS) + other[3], 0, context=[text], group=group)
        _row(rows, "refusal", inline[0].format(t=text) if k % 2 else ask, REFUSALS[(k * 7) % len(REFUSALS)], 0, 1, context=None if k % 2 else [text], group=group)
        if k % 3 == 0:
            _row(rows, "truncated", ask, _truncate(rng, summary), 0, context=[text], group=group)
    return rows


def main() -> None:
    out = Path(__file__).with_name("relevance_train.jsonl")
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in build()))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
