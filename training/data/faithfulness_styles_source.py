"""Hand-written material for the faithfulness training set in other writing styles;
`python training/data/faithfulness_styles_source.py` rebuilds faithfulness_styles_train.jsonl
from it (deterministic: the same bytes every run).

Written 2026-12-01 for styles unlike faithfulness_train.jsonl (one-sentence answers): long
answers that draw on several passages, bullet-list summaries, answers that compute with the
context's numbers, "the documents do not say" answers, and chat answers wrapped in greetings
and offers. Every piece below was written by hand for one context; the script only assembles
them into answers (which facts, which wrapper, which template), with a seeded RNG.

Per context:
- facts: (close to the context's wording, in other words) pairs, each true of the context.
- wrong: a fact made false - one changed number/date/name, a reversed polarity, swapped entities.
- added: an on-topic detail the context does not give.
- compute: (correct arithmetic over the context's numbers, the same with a wrong result).
- absent: what the context really does not say (a wh-/whether-clause).
- present: what the context does say, for an answer that wrongly claims it is silent.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

OUT = Path(__file__).resolve().parent / "faithfulness_styles_train.jsonl"
SEED = 1201

CONTEXTS = [
    dict(
        name="ferry",
        prompt="What do I need to know about the Kestrel Island ferry?",
        context=[
            "Kestrel Ferries sails from Porthlow to Kestrel Island four times a day between April and October. The crossing takes 50 minutes. A single adult ticket costs £14 and a return costs £24.",
            "Children under 5 travel free. Bicycles cost £3 each way and must be booked in advance. Dogs are allowed on the open deck only.",
            "Between November and March there are two sailings a day, and sailings may be cancelled at short notice in high winds.",
        ],
        facts=[
            ("The crossing from Porthlow to Kestrel Island takes 50 minutes.", "The trip over to the island lasts just under an hour, 50 minutes."),
            ("A single adult ticket costs £14 and a return costs £24.", "Adults pay £14 one way or £24 for a return."),
            ("Children under 5 travel free.", "Kids younger than five ride at no charge."),
            ("Dogs are allowed on the open deck only.", "You can bring your dog, but it has to stay on the open deck."),
            ("Between November and March there are two sailings a day.", "In the winter months, November to March, the ferry runs twice daily."),
        ],
        wrong=[
            ("changed_number", "The crossing from Porthlow to Kestrel Island takes 35 minutes."),
            ("reversed_polarity", "Dogs are allowed inside the passenger lounge as well as on deck."),
            ("swapped_entities", "A single adult ticket costs £24 and a return costs £14."),
        ],
        added="Cars can be taken across for £40 each way.",
        compute=[
            ("Two single tickets cost £28, so a return saves you £4.", "Two single tickets cost £28, so a return saves you £6."),
            ("In summer there are twice as many sailings a day as in winter.", "In summer there are three times as many sailings a day as in winter."),
        ],
        absent="whether there is a café on board",
        present="how long the crossing takes",
    ),
    dict(
        name="allotment",
        prompt="How do the Hawthorn Lane allotments work?",
        context=[
            "Hawthorn Lane allotments are managed by Brockley Town Council. A full plot measures 250 square metres and costs £96 a year; a half plot costs £52 a year.",
            "Tenants must cultivate at least 75% of their plot. Bonfires are not permitted at any time. Water troughs are turned off from November to February.",
            "The waiting list currently has 38 names, and the average wait is 18 months.",
        ],
        facts=[
            ("A full plot measures 250 square metres and costs £96 a year.", "Full plots are 250 square metres, at £96 per year."),
            ("A half plot costs £52 a year.", "Half plots are £52 annually."),
            ("Tenants must cultivate at least 75% of their plot.", "You have to keep at least three quarters of your plot under cultivation."),
            ("Bonfires are not permitted at any time.", "You can never light a bonfire on the site."),
            ("The waiting list currently has 38 names, and the average wait is 18 months.", "There are 38 people waiting, and people typically wait a year and a half."),
        ],
        wrong=[
            ("changed_number", "Tenants must cultivate at least 50% of their plot."),
            ("reversed_polarity", "Bonfires are permitted outside the summer months."),
            ("changed_entity", "The allotments are managed by the Hawthorn Gardening Society."),
        ],
        added="Each plot comes with a lockable shed.",
        compute=[
            ("Two half plots would cost £104 a year, £8 more than one full plot.", "Two half plots would cost £104 a year, £12 more than one full plot."),
            ("A full plot costs £44 a year more than a half plot.", "A full plot costs £34 a year more than a half plot."),
        ],
        absent="whether tenants may keep chickens",
        present="how much a half plot costs",
    ),
    dict(
        name="gpu_cloud",
        prompt="Summarise the Corvid Cloud GPU pricing.",
        context=[
            "Corvid Cloud rents A100 GPUs at $1.80 per hour and H100 GPUs at $3.20 per hour, billed per second with a one-minute minimum.",
            "Spot instances are 60% cheaper than on-demand but can be reclaimed with 30 seconds' notice. Persistent storage costs $0.10 per GB per month.",
            "New accounts receive $25 in free credit, valid for 30 days. Egress to the internet is free up to 1 TB per month.",
        ],
        facts=[
            ("A100 GPUs cost $1.80 per hour and H100 GPUs cost $3.20 per hour.", "An A100 is $1.80 an hour, an H100 $3.20 an hour."),
            ("Billing is per second with a one-minute minimum.", "You pay by the second, though every run is charged at least one minute."),
            ("Spot instances can be reclaimed with 30 seconds' notice.", "Spot machines can be taken back with only half a minute of warning."),
            ("Persistent storage costs $0.10 per GB per month.", "Storage that persists is ten cents per gigabyte each month."),
            ("New accounts receive $25 in free credit, valid for 30 days.", "New customers get $25 of credit to use within a month."),
        ],
        wrong=[
            ("changed_number", "New accounts receive $50 in free credit, valid for 30 days."),
            ("swapped_entities", "A100 GPUs cost $3.20 per hour and H100 GPUs cost $1.80 per hour."),
            ("reversed_polarity", "Spot instances cannot be reclaimed once they are running."),
        ],
        added="Reserved instances booked for a year get a 40% discount.",
        compute=[
            ("Ten hours on an H100 cost $32, $14 more than ten hours on an A100.", "Ten hours on an H100 cost $32, $10 more than ten hours on an A100."),
            ("An H100 costs $1.40 per hour more than an A100.", "An H100 costs $1.60 per hour more than an A100."),
        ],
        absent="which regions the GPUs are available in",
        present="how much persistent storage costs",
    ),
    dict(
        name="blood",
        prompt="Can you explain the rules for giving blood with the Northmoor blood service?",
        context=[
            "Donors must be aged between 17 and 66 and weigh at least 50 kg. First-time donors over 66 are not accepted.",
            "Men can give whole blood every 12 weeks and women every 16 weeks. A donation takes about 10 minutes, and the whole appointment about an hour.",
            "After a tattoo or piercing, donors must wait 4 months before giving blood.",
        ],
        facts=[
            ("Donors must be aged between 17 and 66 and weigh at least 50 kg.", "You need to be 17 to 66 years old and at least 50 kilograms."),
            ("Men can give whole blood every 12 weeks and women every 16 weeks.", "Men may donate every 12 weeks, women every 16."),
            ("A donation takes about 10 minutes.", "The donation itself only lasts around ten minutes."),
            ("The whole appointment takes about an hour.", "Expect to spend roughly an hour there in total."),
            ("After a tattoo or piercing, donors must wait 4 months before giving blood.", "If you've had a tattoo or piercing, you have to wait four months."),
        ],
        wrong=[
            ("swapped_entities", "Men can give whole blood every 16 weeks and women every 12 weeks."),
            ("changed_number", "After a tattoo or piercing, donors must wait 6 months before giving blood."),
            ("reversed_polarity", "First-time donors over 66 are accepted if they are in good health."),
        ],
        added="Donors receive a free health check with every donation.",
        compute=[
            ("Women must wait 4 weeks longer between donations than men.", "Women must wait 6 weeks longer between donations than men."),
            ("The donation itself is about a sixth of the hour-long appointment.", "The donation itself is about half of the hour-long appointment."),
        ],
        absent="whether donors are paid",
        present="how long to wait after a tattoo",
    ),
    dict(
        name="library",
        prompt="What are the borrowing rules at Elmstead Library?",
        context=[
            "Elmstead Library members can borrow up to 12 items at a time. Books are lent for 3 weeks and DVDs for 1 week.",
            "Items can be renewed twice online unless another member has reserved them. Fines for adult books are 25p per day, capped at £6 per item. Children's items have no fines.",
            "The library is open Monday to Saturday from 9am to 7pm and is closed on Sundays.",
        ],
        facts=[
            ("Members can borrow up to 12 items at a time.", "You can have as many as 12 items out at once."),
            ("Books are lent for 3 weeks and DVDs for 1 week.", "Books go out for three weeks, DVDs for a single week."),
            ("Items can be renewed twice online unless another member has reserved them.", "You can renew online two times, as long as nobody has reserved the item."),
            ("Children's items have no fines.", "There are no late fees on children's items."),
            ("The library is closed on Sundays.", "It doesn't open on Sundays."),
        ],
        wrong=[
            ("changed_number", "Fines for adult books are 50p per day, capped at £6 per item."),
            ("reversed_polarity", "Items can be renewed online even when another member has reserved them."),
            ("swapped_entities", "Books are lent for 1 week and DVDs for 3 weeks."),
        ],
        added="Members can also borrow e-books through the library app.",
        compute=[
            ("With two renewals a book can be kept for 9 weeks in total.", "With two renewals a book can be kept for 12 weeks in total."),
            ("A book lent for 3 weeks is kept three times as long as a DVD.", "A book lent for 3 weeks is kept twice as long as a DVD."),
        ],
        absent="how much it costs to replace a lost library card",
        present="when the library is open",
    ),
    dict(
        name="rail_pass",
        prompt="Tell me about the Lowland Rover rail pass.",
        context=[
            "The Lowland Rover gives unlimited travel on all Lowland Rail services for 4 days within an 8-day period. It costs £119 for adults and £59.50 for children aged 5 to 15.",
            "Holders of a Senior Railcard get a third off the adult price. The pass is not valid before 09:15 on weekdays.",
            "Passes are sold online and at staffed stations, and the travel days must be written on the pass before boarding.",
        ],
        facts=[
            ("The Lowland Rover gives unlimited travel for 4 days within an 8-day period.", "You get four days of unlimited travel, to be used within eight days."),
            ("It costs £119 for adults and £59.50 for children aged 5 to 15.", "Adults pay £119, and children from 5 to 15 pay £59.50."),
            ("The pass is not valid before 09:15 on weekdays.", "On weekdays you can't use it before 09:15."),
            ("Senior Railcard holders get a third off the adult price.", "With a Senior Railcard the adult fare is reduced by one third."),
            ("The travel days must be written on the pass before boarding.", "You have to fill in each travel day on the pass before you get on."),
        ],
        wrong=[
            ("changed_number", "It costs £129 for adults and £59.50 for children aged 5 to 15."),
            ("reversed_polarity", "The pass is valid at any time on weekdays, including before 09:15."),
            ("changed_entity", "The pass is valid on all Highland Rail services as well."),
        ],
        added="The pass also includes discounted entry to several castles.",
        compute=[
            ("A child pass costs exactly half the adult price.", "A child pass costs exactly a third of the adult price."),
            ("An adult with a Senior Railcard pays about £79 instead of £119.", "An adult with a Senior Railcard pays about £89 instead of £119."),
        ],
        absent="whether bicycles can be taken on the train with the pass",
        present="how much the pass costs for children",
    ),
    dict(
        name="climbing",
        prompt="What should a new climber know about Granite Works climbing centre?",
        context=[
            "New climbers at Granite Works must complete a 90-minute induction, which costs £18 and includes shoe and harness hire.",
            "A single entry costs £13.50, and a 10-visit pass costs £115. Monthly membership is £52 and includes two guest passes.",
            "Under-14s must be supervised by an adult at all times. The bouldering area closes 30 minutes before the centre.",
        ],
        facts=[
            ("New climbers must complete a 90-minute induction, which costs £18.", "Beginners first do an induction lasting an hour and a half, for £18."),
            ("The induction includes shoe and harness hire.", "Shoes and a harness are included with the induction."),
            ("A single entry costs £13.50, and a 10-visit pass costs £115.", "One visit is £13.50; ten visits bought together are £115."),
            ("Monthly membership is £52 and includes two guest passes.", "Membership is £52 a month and comes with two passes for guests."),
            ("Under-14s must be supervised by an adult at all times.", "Children under 14 always need an adult with them."),
        ],
        wrong=[
            ("changed_number", "New climbers must complete a 60-minute induction, which costs £18."),
            ("reversed_polarity", "The induction does not include shoe and harness hire."),
            ("changed_fact", "The bouldering area stays open 30 minutes after the rest of the centre closes."),
        ],
        added="Chalk is provided free at every wall.",
        compute=[
            ("Ten single entries would cost £135, so the 10-visit pass saves £20.", "Ten single entries would cost £135, so the 10-visit pass saves £25."),
            ("The induction and a first single entry together cost £31.50.", "The induction and a first single entry together cost £33.50."),
        ],
        absent="whether the centre has a café",
        present="how much the induction costs",
    ),
    dict(
        name="release_notes",
        prompt="What changed in Tessellate 4.2?",
        context=[
            "Tessellate 4.2 was released on 3 March 2026. It drops support for Python 3.8 and now requires Python 3.10 or newer.",
            "The default tile cache grows from 256 MB to 1 GB. The legacy render() function is deprecated and will be removed in version 5.0.",
            "A bug that caused memory leaks when reading GeoTIFF files larger than 4 GB was fixed. Windows builds are not yet available for 4.2.",
        ],
        facts=[
            ("Tessellate 4.2 was released on 3 March 2026.", "Version 4.2 came out on 3 March 2026."),
            ("It now requires Python 3.10 or newer.", "You need at least Python 3.10 to run it."),
            ("The default tile cache grows from 256 MB to 1 GB.", "The tile cache is now 1 GB by default, up from 256 MB."),
            ("The legacy render() function is deprecated and will be removed in version 5.0.", "render() is deprecated and goes away in 5.0."),
            ("Windows builds are not yet available for 4.2.", "There are no Windows builds of 4.2 yet."),
        ],
        wrong=[
            ("changed_date", "Tessellate 4.2 was released on 3 May 2026."),
            ("reversed_polarity", "Windows builds are available for 4.2 from the release page."),
            ("changed_number", "The legacy render() function is deprecated and will be removed in version 4.3."),
        ],
        added="Rendering is about twice as fast as in 4.1.",
        compute=[
            ("The default tile cache is now four times as large as before.", "The default tile cache is now eight times as large as before."),
            ("The cache grows by 768 MB.", "The cache grows by 512 MB."),
        ],
        absent="whether Python 3.9 was supported by version 4.1",
        present="which Python versions are required",
    ),
    dict(
        name="pet_insurance",
        prompt="What does the PawSure Lifetime policy cover?",
        context=[
            "PawSure Lifetime covers vet fees up to £7,000 per year, renewing each year for the life of the pet. The excess is £99 per condition per year.",
            "Dental treatment is covered only if it follows an accident. Pre-existing conditions are not covered. Pets must be at least 8 weeks old when the policy starts.",
            "Claims for illness can only be made after a 14-day waiting period from the start date; accidents are covered from day one.",
        ],
        facts=[
            ("PawSure Lifetime covers vet fees up to £7,000 per year.", "Vet bills are covered to £7,000 a year."),
            ("The excess is £99 per condition per year.", "You pay the first £99 of each condition every year."),
            ("Pre-existing conditions are not covered.", "Conditions your pet already had aren't included."),
            ("Illness claims can only be made after a 14-day waiting period.", "For illnesses there's a two-week wait before you can claim."),
            ("Accidents are covered from day one.", "Accident cover starts on the very first day."),
        ],
        wrong=[
            ("changed_number", "PawSure Lifetime covers vet fees up to £10,000 per year."),
            ("reversed_polarity", "Dental treatment is covered whether or not it follows an accident."),
            ("swapped_entities", "Accidents can only be claimed after 14 days, while illnesses are covered from day one."),
        ],
        added="Cremation costs are covered up to £300.",
        compute=[
            ("For one condition costing £2,000, you would pay the £99 excess and PawSure £1,901.", "For one condition costing £2,000, you would pay the £99 excess and PawSure £1,801."),
            ("Two separate conditions in one year mean £198 in excess.", "Two separate conditions in one year mean £99 in excess in total."),
        ],
        absent="what the monthly premium is",
        present="whether pre-existing conditions are covered",
    ),
    dict(
        name="language_school",
        prompt="Give me an overview of the Lisbon Spanish & Portuguese school's courses.",
        context=[
            "Casa Palavra in Lisbon offers Portuguese courses of 20 lessons per week, each lesson lasting 50 minutes. A week costs €260.",
            "Classes have a maximum of 8 students. Courses start every Monday, except for complete beginners, who start on the first Monday of each month.",
            "Homestay accommodation costs €210 per week including breakfast. A one-off registration fee of €60 is charged.",
        ],
        facts=[
            ("Courses have 20 lessons per week, each lasting 50 minutes.", "You get twenty 50-minute lessons a week."),
            ("A week of the course costs €260.", "One week of classes is €260."),
            ("Classes have a maximum of 8 students.", "No class has more than eight students."),
            ("Complete beginners start on the first Monday of each month.", "True beginners can only start on a month's first Monday."),
            ("Homestay accommodation costs €210 per week including breakfast.", "Staying with a host family is €210 a week, breakfast included."),
        ],
        wrong=[
            ("changed_number", "Classes have a maximum of 12 students."),
            ("changed_fact", "Complete beginners can start on any Monday."),
            ("swapped_entities", "A week of the course costs €210 and homestay costs €260 per week."),
        ],
        added="Afternoon surf lessons can be booked for €40.",
        compute=[
            ("Two weeks of course plus homestay come to €940 including the registration fee.", "Two weeks of course plus homestay come to €880 including the registration fee."),
            ("That is 1,000 minutes of teaching a week.", "That is 1,200 minutes of teaching a week."),
        ],
        absent="whether the school offers Spanish courses",
        present="how many students a class can have",
    ),
    dict(
        name="marathon",
        prompt="What are the key rules for the Fenwick Marathon?",
        context=[
            "The Fenwick Marathon starts at 9:30 on Sunday 26 April. Runners must be at least 18 years old on race day.",
            "The course closes after 6 hours 30 minutes; runners still on the course after that must move to the pavement. Headphones are allowed, but bone-conduction models are recommended.",
            "Bib numbers can be transferred to another runner until 31 March for a £15 fee. Entry costs £58 for affiliated club members and £60 for everyone else.",
        ],
        facts=[
            ("The Fenwick Marathon starts at 9:30 on Sunday 26 April.", "The race begins at half past nine on Sunday 26 April."),
            ("Runners must be at least 18 years old on race day.", "You have to be 18 or older on the day."),
            ("The course closes after 6 hours 30 minutes.", "There's a six and a half hour limit before the course closes."),
            ("Headphones are allowed.", "You may run with headphones."),
            ("Bib numbers can be transferred until 31 March for a £15 fee.", "Up to 31 March you can pass your bib to someone else for £15."),
        ],
        wrong=[
            ("changed_date", "The Fenwick Marathon starts at 9:30 on Sunday 26 March."),
            ("reversed_polarity", "Headphones are not allowed on the course."),
            ("changed_number", "Runners must be at least 16 years old on race day."),
        ],
        added="Every finisher receives a technical T-shirt.",
        compute=[
            ("Club members save £2 on entry.", "Club members save £5 on entry."),
            ("The course closes at 16:00.", "The course closes at 15:30."),
        ],
        absent="whether there is a half-marathon option",
        present="when bib transfers close",
    ),
    dict(
        name="mortgage",
        prompt="What are the terms of the Harbourline 5-year fix?",
        context=[
            "The Harbourline 5-year fixed mortgage has a rate of 4.29% and an arrangement fee of £999. It is available up to 85% loan-to-value.",
            "Overpayments of up to 10% of the balance each year are free. An early repayment charge applies in the fixed period: 5% in years 1 and 2, 4% in year 3, and 3% in years 4 and 5.",
            "After 5 years the loan moves to the standard variable rate, currently 7.49%.",
        ],
        facts=[
            ("The rate is fixed at 4.29% for 5 years.", "For five years you pay a fixed 4.29%."),
            ("There is an arrangement fee of £999.", "Setting it up costs £999."),
            ("It is available up to 85% loan-to-value.", "You can borrow up to 85% of the property's value."),
            ("Overpayments of up to 10% of the balance each year are free.", "Each year you can overpay up to a tenth of what you owe at no charge."),
            ("After 5 years the loan moves to the standard variable rate, currently 7.49%.", "Once the fix ends, you go onto the variable rate, now 7.49%."),
        ],
        wrong=[
            ("changed_number", "It is available up to 90% loan-to-value."),
            ("reversed_polarity", "Overpayments are charged at 1% of the amount overpaid."),
            ("swapped_entities", "The early repayment charge is 3% in years 1 and 2 and 5% in years 4 and 5."),
        ],
        added="There is no valuation fee for this product.",
        compute=[
            ("The standard variable rate is 3.2 percentage points higher than the fixed rate.", "The standard variable rate is 2.8 percentage points higher than the fixed rate."),
            ("Repaying a £200,000 balance early in year 3 would cost £8,000.", "Repaying a £200,000 balance early in year 3 would cost £10,000."),
        ],
        absent="whether the mortgage can be ported to a new home",
        present="what the arrangement fee is",
    ),
    dict(
        name="octopus_sci",
        prompt="Explain what the passages say about tardigrades.",
        context=[
            "Tardigrades are microscopic animals, usually about 0.5 mm long, with eight legs. They live in moss, lichen, soil and ocean sediment.",
            "In a dried state called a tun, they can survive temperatures from about -272 °C to 150 °C. In 2007 tardigrades survived 10 days of exposure to open space on the FOTON-M3 mission.",
            "More than 1,300 species have been described. They were first described by Johann August Ephraim Goeze in 1773.",
        ],
        facts=[
            ("Tardigrades are usually about 0.5 mm long and have eight legs.", "These animals are around half a millimetre long and have eight legs."),
            ("They live in moss, lichen, soil and ocean sediment.", "You can find them in moss, lichen, soil and sediment on the ocean floor."),
            ("In 2007 tardigrades survived 10 days of exposure to open space.", "During a 2007 mission they survived ten days exposed to space."),
            ("More than 1,300 species have been described.", "Over 1,300 species are known."),
            ("They were first described by Johann August Ephraim Goeze in 1773.", "Goeze was the first to describe them, in 1773."),
        ],
        wrong=[
            ("changed_number", "Tardigrades are usually about 5 mm long and have eight legs."),
            ("changed_date", "They were first described by Johann August Ephraim Goeze in 1873."),
            ("changed_entity", "In 2007 tardigrades survived 10 days of exposure to open space on the International Space Station."),
        ],
        added="They can live for up to 60 years.",
        compute=[
            ("Goeze described them 234 years before the FOTON-M3 mission.", "Goeze described them 334 years before the FOTON-M3 mission."),
            ("In the tun state they tolerate a temperature range of over 400 degrees.", "In the tun state they tolerate a temperature range of over 600 degrees."),
        ],
        absent="how long tardigrades live",
        present="how many species have been described",
    ),
    dict(
        name="parking",
        prompt="How does parking at the Quayside multi-storey work?",
        context=[
            "Quayside car park is open 24 hours a day. Parking costs £2.20 per hour up to a maximum of £16 for 24 hours.",
            "Blue Badge holders park free for the first 3 hours. A monthly season ticket costs £140. The maximum vehicle height is 2.1 metres.",
            "Payment is by card or the ParkFlow app; cash is not accepted.",
        ],
        facts=[
            ("Parking costs £2.20 per hour up to a maximum of £16 for 24 hours.", "It's £2.20 an hour, capped at £16 a day."),
            ("Blue Badge holders park free for the first 3 hours.", "With a Blue Badge the first three hours cost nothing."),
            ("A monthly season ticket costs £140.", "A season ticket for a month is £140."),
            ("The maximum vehicle height is 2.1 metres.", "Vehicles taller than 2.1 metres can't get in."),
            ("Cash is not accepted.", "You can't pay with cash."),
        ],
        wrong=[
            ("reversed_polarity", "You can pay with cash at the machines on each level."),
            ("changed_number", "The maximum vehicle height is 2.4 metres."),
            ("changed_number", "Blue Badge holders park free for the first 5 hours."),
        ],
        added="Electric vehicle chargers are available on level 2.",
        compute=[
            ("Three hours cost £6.60.", "Three hours cost £7.60."),
            ("Ten hours would be £22 at the hourly rate, so the £16 daily cap applies.", "Ten hours would be £20 at the hourly rate, so the £16 daily cap applies."),
        ],
        absent="whether the car park has electric vehicle chargers",
        present="whether cash is accepted",
    ),
    dict(
        name="parental_leave",
        prompt="Summarise Brightwell's parental leave policy.",
        context=[
            "Brightwell employees with at least 26 weeks of service receive 20 weeks of parental leave at full pay, followed by up to 32 weeks at statutory pay.",
            "Leave can be taken in up to 3 separate blocks within the first year after birth or adoption. Partners receive 6 weeks at full pay.",
            "Employees must give at least 8 weeks' notice. Employees who leave within 6 months of returning must repay half of the enhanced pay.",
        ],
        facts=[
            ("Employees with at least 26 weeks of service receive 20 weeks of parental leave at full pay.", "After six months with the company you get 20 weeks of leave on full pay."),
            ("Full pay is followed by up to 32 weeks at statutory pay.", "Then up to 32 more weeks are paid at the statutory rate."),
            ("Leave can be taken in up to 3 separate blocks within the first year.", "You can split the leave into as many as three blocks during the first year."),
            ("Partners receive 6 weeks at full pay.", "Partners get six weeks on full pay."),
            ("Employees must give at least 8 weeks' notice.", "You need to tell the company at least 8 weeks in advance."),
        ],
        wrong=[
            ("changed_number", "Partners receive 2 weeks at full pay."),
            ("changed_fact", "Employees who leave within 6 months of returning must repay all of the enhanced pay."),
            ("changed_number", "Employees with at least 26 weeks of service receive 26 weeks of parental leave at full pay."),
        ],
        added="Employees can also work from home for the first month back.",
        compute=[
            ("In total, up to 52 weeks of leave can be taken.", "In total, up to 48 weeks of leave can be taken."),
            ("Full-pay leave for the main carer is more than three times as long as for partners.", "Full-pay leave for the main carer is five times as long as for partners."),
        ],
        absent="whether the policy applies to contractors",
        present="how much notice employees must give",
    ),
    dict(
        name="hut",
        prompt="What do the documents say about staying at the Grauspitz mountain hut?",
        context=[
            "The Grauspitz hut sits at 2,412 metres and is staffed from late June to late September. It has 64 beds in dormitories.",
            "Half board costs CHF 78 for adults and CHF 52 for members of an Alpine club. Bookings are required; walk-ins are accepted only in emergencies.",
            "The hut has no showers. Card payment is possible, and the nearest road is a 3-hour hike away.",
        ],
        facts=[
            ("The Grauspitz hut sits at 2,412 metres.", "The hut is at an altitude of 2,412 metres."),
            ("It has 64 beds in dormitories.", "There are 64 dormitory beds."),
            ("Half board costs CHF 78 for adults and CHF 52 for Alpine club members.", "Adults pay CHF 78 for half board; Alpine club members pay CHF 52."),
            ("The hut has no showers.", "There aren't any showers at the hut."),
            ("The nearest road is a 3-hour hike away.", "It takes about three hours on foot to reach the nearest road."),
        ],
        wrong=[
            ("reversed_polarity", "The hut has hot showers for guests."),
            ("changed_number", "It has 46 beds in dormitories."),
            ("changed_fact", "Walk-ins are welcome without a booking."),
        ],
        added="Dogs are allowed in the dining room.",
        compute=[
            ("Alpine club members save CHF 26 per night on half board.", "Alpine club members save CHF 36 per night on half board."),
            ("Two nights of half board for an adult cost CHF 156.", "Two nights of half board for an adult cost CHF 166."),
        ],
        absent="whether the hut provides sleeping bags",
        present="whether the hut has showers",
    ),
    dict(
        name="electricity",
        prompt="Compare the Voltedge electricity tariffs.",
        context=[
            "Voltedge Fixed costs 24.5p per kWh with a standing charge of 48p per day, fixed for 12 months. Leaving early costs £50.",
            "Voltedge Night charges 29p per kWh during the day and 9p per kWh between midnight and 5am. Its standing charge is 52p per day.",
            "Both tariffs supply 100% renewable electricity. Customers who pay by direct debit get a £30 annual discount.",
        ],
        facts=[
            ("Voltedge Fixed costs 24.5p per kWh with a standing charge of 48p per day.", "On Fixed you pay 24.5p a unit and 48p a day for the standing charge."),
            ("The Fixed price is fixed for 12 months, and leaving early costs £50.", "The Fixed price holds for a year, with a £50 fee to leave early."),
            ("Voltedge Night charges 9p per kWh between midnight and 5am.", "Night gives you 9p units from midnight to 5am."),
            ("Both tariffs supply 100% renewable electricity.", "All the electricity on both tariffs is renewable."),
            ("Direct debit customers get a £30 annual discount.", "Paying by direct debit takes £30 off per year."),
        ],
        wrong=[
            ("swapped_entities", "Voltedge Fixed has a standing charge of 52p per day and Voltedge Night 48p per day."),
            ("changed_number", "Voltedge Night charges 9p per kWh between midnight and 7am."),
            ("changed_fact", "Only the Night tariff supplies renewable electricity."),
        ],
        added="Night customers get a free smart meter upgrade.",
        compute=[
            ("Night units are 20p cheaper than day units on the Night tariff.", "Night units are 15p cheaper than day units on the Night tariff."),
            ("The Night tariff's standing charge is 4p a day higher than Fixed's.", "The Night tariff's standing charge is 6p a day higher than Fixed's."),
        ],
        absent="what the tariffs cost in Scotland",
        present="what the Night tariff charges at night",
    ),
    dict(
        name="vaccination",
        prompt="What does the clinic leaflet say about the shingles vaccine?",
        context=[
            "The shingles vaccine is offered free to adults turning 65 and to people aged 50 or over with a severely weakened immune system.",
            "It is given as two doses, 6 to 12 months apart; for people with a weakened immune system the second dose can be given 8 weeks after the first.",
            "Side effects such as a sore arm or tiredness are common and usually last 2 to 3 days. The vaccine cannot give you shingles.",
        ],
        facts=[
            ("The vaccine is offered free to adults turning 65.", "People turning 65 can have it at no cost."),
            ("It is given as two doses, 6 to 12 months apart.", "You need two doses, between six months and a year apart."),
            ("For people with a weakened immune system the second dose can be given 8 weeks after the first.", "If your immune system is weakened, the second dose can come eight weeks after the first."),
            ("Side effects usually last 2 to 3 days.", "Side effects generally clear up within two or three days."),
            ("The vaccine cannot give you shingles.", "You can't catch shingles from the vaccine."),
        ],
        wrong=[
            ("reversed_polarity", "In rare cases the vaccine can give you shingles."),
            ("changed_number", "It is given as two doses, 2 to 6 months apart."),
            ("changed_number", "The vaccine is offered free to adults turning 70."),
        ],
        added="The vaccine protects for at least 10 years.",
        compute=[
            ("People with a weakened immune system can finish the course about 4 months sooner than others.", "People with a weakened immune system can finish the course about 8 months sooner than others."),
            ("At the latest, the second dose comes twice as long after the first as at the earliest.", "At the latest, the second dose comes three times as long after the first as at the earliest."),
        ],
        absent="whether the vaccine can be given with the flu jab",
        present="how long side effects last",
    ),
    dict(
        name="hotel",
        prompt="What are the policies at the Harrowgate Hotel?",
        context=[
            "Check-in at the Harrowgate Hotel is from 15:00 and check-out is by 11:00. Late check-out until 14:00 costs £25, subject to availability.",
            "Breakfast is served from 7:00 to 10:30 and costs £18 per person. Children under 12 eat breakfast free.",
            "Dogs are welcome in ground-floor rooms for £20 per night. Bookings can be cancelled free of charge up to 48 hours before arrival.",
        ],
        facts=[
            ("Check-in is from 15:00 and check-out is by 11:00.", "You can check in from 3pm and must check out by 11am."),
            ("Late check-out until 14:00 costs £25, subject to availability.", "For £25 you can stay until 2pm, if there's availability."),
            ("Breakfast costs £18 per person, and children under 12 eat free.", "Breakfast is £18 a head, free for under-12s."),
            ("Dogs are welcome in ground-floor rooms for £20 per night.", "Dogs can stay in ground-floor rooms at £20 a night."),
            ("Bookings can be cancelled free of charge up to 48 hours before arrival.", "You can cancel at no cost up to two days before you arrive."),
        ],
        wrong=[
            ("changed_number", "Bookings can be cancelled free of charge up to 24 hours before arrival."),
            ("reversed_polarity", "Dogs are not allowed in any rooms."),
            ("swapped_entities", "Check-in is from 11:00 and check-out is by 15:00."),
        ],
        added="All rooms have air conditioning.",
        compute=[
            ("Breakfast for two adults and a 10-year-old costs £36.", "Breakfast for two adults and a 10-year-old costs £54."),
            ("Late check-out gives you 3 extra hours.", "Late check-out gives you 4 extra hours."),
        ],
        absent="whether the hotel has parking",
        present="when breakfast is served",
    ),
    dict(
        name="coffee_grinder",
        prompt="How do I look after the Burrwell G3 grinder?",
        context=[
            "The Burrwell G3 grinder has 40 grind settings and a 250 g bean hopper. The burrs should be brushed clean every 2 weeks.",
            "Never wash the burrs with water; use the supplied brush or grinder-cleaning tablets. The burrs should be replaced after about 500 kg of coffee.",
            "The grinder is covered by a 2-year warranty, extended to 3 years if registered within 30 days of purchase.",
        ],
        facts=[
            ("The burrs should be brushed clean every 2 weeks.", "Brush the burrs every fortnight."),
            ("Never wash the burrs with water.", "Water should never be used on the burrs."),
            ("The burrs should be replaced after about 500 kg of coffee.", "Swap the burrs once roughly 500 kilos of coffee have gone through."),
            ("The grinder has 40 grind settings and a 250 g bean hopper.", "There are 40 settings, and the hopper holds 250 grams of beans."),
            ("The warranty is 2 years, or 3 years if registered within 30 days.", "It has a two-year warranty, three if you register it within a month."),
        ],
        wrong=[
            ("reversed_polarity", "The burrs can be rinsed under warm water."),
            ("changed_number", "The burrs should be replaced after about 50 kg of coffee."),
            ("changed_number", "The warranty is extended to 5 years if registered within 30 days."),
        ],
        added="The grinder works with pre-ground coffee too.",
        compute=[
            ("Registering the grinder adds one year to the warranty.", "Registering the grinder adds two years to the warranty."),
            ("A full hopper holds a quarter of a kilogram of beans.", "A full hopper holds half a kilogram of beans."),
        ],
        absent="what the grinder weighs",
        present="how often the burrs should be cleaned",
    ),
    dict(
        name="canal_history",
        prompt="Summarise the history of the Kiel Canal from these passages.",
        context=[
            "The Kiel Canal links the North Sea at Brunsbüttel to the Baltic Sea at Kiel-Holtenau. It is 98 kilometres long.",
            "Construction began in 1887 and the canal opened in 1895, when it was named the Kaiser-Wilhelm-Kanal. About 9,000 workers built it.",
            "The canal was widened between 1907 and 1914. It is one of the busiest artificial waterways in the world, used by about 30,000 ships a year.",
        ],
        facts=[
            ("The Kiel Canal links the North Sea at Brunsbüttel to the Baltic Sea at Kiel-Holtenau.", "It connects the North Sea, at Brunsbüttel, with the Baltic, at Kiel-Holtenau."),
            ("It is 98 kilometres long.", "The canal runs for 98 km."),
            ("Construction began in 1887 and the canal opened in 1895.", "Work started in 1887, and it opened in 1895."),
            ("About 9,000 workers built it.", "Roughly 9,000 workers were involved in building it."),
            ("About 30,000 ships a year use the canal.", "Some 30,000 ships pass through each year."),
        ],
        wrong=[
            ("changed_date", "Construction began in 1887 and the canal opened in 1905."),
            ("swapped_entities", "The Kiel Canal links the North Sea at Kiel-Holtenau to the Baltic Sea at Brunsbüttel."),
            ("changed_number", "About 3,000 ships a year use the canal."),
        ],
        added="A toll of about 1,000 euros is charged to large ships.",
        compute=[
            ("Building the canal took 8 years.", "Building the canal took 10 years."),
            ("The widening took 7 years and was finished 19 years after the canal opened.", "The widening took 9 years and was finished 21 years after the canal opened."),
        ],
        absent="how much the canal cost to build",
        present="how long the canal is",
    ),
    dict(
        name="recipe",
        prompt="How do I make the sourdough loaf from the recipe card?",
        context=[
            "Mix 500 g of strong white flour with 350 g of water and 100 g of active starter, then rest for 1 hour before adding 10 g of salt.",
            "Stretch and fold the dough four times, 30 minutes apart, then leave it to rise for 4 to 6 hours at room temperature.",
            "Shape, cover and refrigerate overnight. Bake at 240 °C in a preheated Dutch oven for 20 minutes with the lid on and 25 minutes with it off.",
        ],
        facts=[
            ("Mix 500 g of flour with 350 g of water and 100 g of starter.", "Combine 500 grams of flour, 350 grams of water and 100 grams of starter."),
            ("Rest for 1 hour before adding 10 g of salt.", "Let it sit an hour, then add 10 grams of salt."),
            ("Stretch and fold the dough four times, 30 minutes apart.", "Do four rounds of stretch and folds, half an hour apart."),
            ("Leave it to rise for 4 to 6 hours at room temperature.", "Let it rise at room temperature for four to six hours."),
            ("Bake at 240 °C for 20 minutes with the lid on and 25 minutes with it off.", "Bake at 240 degrees, 20 minutes covered and 25 uncovered."),
        ],
        wrong=[
            ("swapped_entities", "Bake at 240 °C for 25 minutes with the lid on and 20 minutes with it off."),
            ("changed_number", "Mix 500 g of flour with 400 g of water and 100 g of starter."),
            ("changed_fact", "Shape the dough and bake it straight away without refrigerating."),
        ],
        added="Add a tablespoon of honey for a softer crust.",
        compute=[
            ("The loaf bakes for 45 minutes in total.", "The loaf bakes for 50 minutes in total."),
            ("The dough is 70% water relative to the flour.", "The dough is 75% water relative to the flour."),
        ],
        absent="whether wholemeal flour can be used",
        present="what temperature to bake at",
    ),
    dict(
        name="phone_plan",
        prompt="What's included in the Tidewave Unlimited 5G plan?",
        context=[
            "Tidewave Unlimited 5G costs $45 per month on a 24-month contract, or $55 per month with no contract.",
            "It includes unlimited calls and texts and unlimited data, with speeds reduced to 1 Mbps after 100 GB in a month. Hotspot use is limited to 15 GB.",
            "Roaming in Canada and Mexico is included. A one-time activation fee of $20 applies.",
        ],
        facts=[
            ("The plan costs $45 per month on a 24-month contract, or $55 per month with no contract.", "It's $45 a month on a two-year contract or $55 a month without one."),
            ("Speeds are reduced to 1 Mbps after 100 GB in a month.", "After 100 GB in a month your speed drops to 1 Mbps."),
            ("Hotspot use is limited to 15 GB.", "You can use up to 15 GB as a hotspot."),
            ("Roaming in Canada and Mexico is included.", "Using your phone in Canada or Mexico costs nothing extra."),
            ("A one-time activation fee of $20 applies.", "There's a single $20 activation charge."),
        ],
        wrong=[
            ("changed_number", "Hotspot use is limited to 50 GB."),
            ("changed_entity", "Roaming in Canada and Europe is included."),
            ("swapped_entities", "The plan costs $55 per month on a 24-month contract, or $45 per month with no contract."),
        ],
        added="A streaming subscription is included at no extra cost.",
        compute=[
            ("The contract saves $10 a month, or $240 over the 24 months.", "The contract saves $10 a month, or $120 over the 24 months."),
            ("The first month on contract costs $65 with the activation fee.", "The first month on contract costs $75 with the activation fee."),
        ],
        absent="whether the plan includes international calls to the UK",
        present="whether roaming in Mexico is included",
    ),
]

# --- how the pieces are assembled ---------------------------------------------------------

GREETINGS = ["Hi there!", "Hello!", "Hey, thanks for your question!", "Great question!", "Hi! Thanks for reaching out.",
             "Good morning!", "Thanks for asking!", "Hello, and thanks for getting in touch."]
OFFERS = ["Is there anything else I can help you with?", "Let me know if you have any other questions!", "Hope this helps!",
          "Feel free to ask if anything is unclear.", "Happy to help with anything else.", "Would you like more details on any of this?",
          "Have a great day!", "I hope that clears things up."]
BULLET_INTROS = ["Here's a summary:", "Key points:", "Here are the main points from the documents:", "Summary:", "In brief:", ""]
BULLETS = ["- ", "* ", "• "]
LINKS = ["", "Also, ", "In addition, ", "On top of that, ", "Beyond that, "]
SILENCE = ["The documents do not say {}.", "The provided context doesn't mention {}.", "The passages don't specify {}.",
           "I couldn't find anything in the documents about {}.", "The information provided does not say {}."]


def _lower_first(text: str, context: str) -> str:
    """The sentence as it reads after a linking word: lower case first, unless its first word is a name."""
    first = text.split()[0]
    is_name = re.search(rf"[a-z,] {re.escape(first)}\b", context) or (len(first) > 1 and first.isupper())
    return text if is_name else text[:1].lower() + text[1:]


def _long(facts: list[str], rng: random.Random, context: str) -> str:
    out = [facts[0]]
    for fact in facts[1:]:
        link = rng.choice(LINKS)
        out.append(link + _lower_first(fact, context) if link else fact)
    return " ".join(out)


def _bullets(facts: list[str], rng: random.Random) -> str:
    intro, mark = rng.choice(BULLET_INTROS), rng.choice(BULLETS)
    lines = [mark + f.rstrip(".") if rng.random() < 0.4 else mark + f for f in facts]
    return "\n".join(([intro] if intro else []) + lines)


def _as_written(wrong: str, response: str) -> list[str]:
    """The wrong sentence as the response writes it (lower-cased after a linking word, without its full stop)."""
    core = wrong.rstrip(".")
    at = response.lower().find(core.lower())
    assert at >= 0, (wrong, response)
    return [response[at : at + len(core)]]


def _chat(body: str, rng: random.Random) -> str:
    return f"{rng.choice(GREETINGS)} {body} {rng.choice(OFFERS)}"


def _overlap(a: str, b: str) -> float:
    wa, wb = set(re.findall(r"\w+", a.lower())), set(re.findall(r"\w+", b.lower()))
    return len(wa & wb) / max(len(wa | wb), 1)


def rows_of(c: dict, rng: random.Random) -> list[dict]:
    facts = [rng.choice(pair) for pair in c["facts"]]  # verbatim or paraphrased, per fact
    rows: list[tuple[str, str, int, list[str]]] = []

    context = " ".join(c["context"])

    def pick(k: int, besides: str = "") -> list[str]:
        """k facts, none of them the one `besides` was made from (an answer does not state both)."""
        return rng.sample([f for f in facts if _overlap(f, besides) < 0.5], k)

    # long multi-passage answers: faithful, one changed fact, an added detail
    rows.append(("long_faithful", _long(pick(4), rng, context), 1, []))
    for kind, wrong in c["wrong"][:2]:
        body = pick(3, wrong)
        body.insert(rng.randrange(1, 4), wrong)
        rows.append((f"long_{kind}", _long(body, rng, context), 0, [wrong]))
    body = pick(3) + [c["added"]]
    rows.append(("long_added_detail", _long(body, rng, context), 0, [c["added"]]))
    # bullet-list summaries
    rows.append(("bullets_faithful", _bullets(pick(4), rng), 1, []))
    rows.append(("bullets_faithful", _bullets([c["facts"][i][1] for i in range(3)], rng), 1, []))
    kind, wrong = c["wrong"][2]
    body = pick(3, wrong)
    body.insert(rng.randrange(0, 4), wrong)
    rows.append((f"bullets_{kind}", _bullets(body, rng), 0, [wrong]))
    body = pick(2) + [c["added"]]
    rows.append(("bullets_added_detail", _bullets(body, rng), 0, [c["added"]]))
    # arithmetic over the context's numbers
    for right, wrong in c["compute"]:
        rows.append(("compute_correct", f"{rng.choice(facts)} {right}", 1, []))
        rows.append(("compute_wrong", f"{rng.choice(facts)} {wrong}", 0, [wrong]))
    # "the documents do not say"
    silent_absent = rng.choice(SILENCE).format(c["absent"])
    silent_present = rng.choice(SILENCE).format(c["present"])
    rows.append(("silence_correct", f"{silent_absent} {rng.choice(facts)}", 1, []))
    rows.append(("silence_correct", silent_absent, 1, []))
    rows.append(("silence_wrong", f"{silent_present} {rng.choice(facts)}", 0, [silent_present]))
    # chat answers wrapped in greetings and offers
    rows.append(("chat_faithful", _chat(" ".join(pick(2)), rng), 1, []))
    rows.append(("chat_faithful", _chat(c["compute"][0][0], rng), 1, []))
    kind, wrong = rng.choice(c["wrong"])
    rows.append((f"chat_{kind}", _chat(f"{pick(1, wrong)[0]} {wrong}", rng), 0, [wrong]))
    rows.append(("chat_added_detail", _chat(f"{rng.choice(facts)} {c['added']}", rng), 0, [c["added"]]))
    return [
        {"id": f"fs-{c['name']}-{i:02d}", "prompt": c["prompt"], "context": c["context"], "response": response,
         "faithful": faithful, "kind": kind, "unsupported": [u for w in unsupported for u in _as_written(w, response)]}
        for i, (kind, response, faithful, unsupported) in enumerate(rows)
    ]


def build() -> list[dict]:
    rng = random.Random(SEED)
    return [row for c in CONTEXTS for row in rows_of(c, rng)]


if __name__ == "__main__":
    rows = build()
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    print(f"{len(rows)} rows, {sum(r['faithful'] for r in rows)} faithful -> {OUT}")
