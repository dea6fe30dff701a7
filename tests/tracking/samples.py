# ruff: noqa: E501 - the payloads are copied verbatim, long lines included
"""The real Shiprocket tracking payloads from /work/shared/reference/shiprocket-api-facts.md §4, verbatim
(Sample A: current webhook; Sample B: older webhook; Sample C: tracking API answer)."""

SAMPLE_A = r"""
{
   "awb":"19041424751540",
   "courier_name":"Delhivery Surface",
   "current_status":"IN TRANSIT",
   "current_status_id":20,
   "shipment_status":"IN TRANSIT",
   "shipment_status_id":18,
   "current_timestamp":"23 05 2023 11:43:52",
   "order_id":"1373900_150876814",
   "sr_order_id":348456385,
   "awb_assigned_date":"2023-05-19 11:59:16",
   "pickup_scheduled_date":"2023-05-19 11:59:17",
   "etd":"2023-05-23 15:40:19",
   "scans":[
      {"date":"2023-05-19 11:59:16","status":"X-UCI","activity":"Manifested - Manifest uploaded","location":"Chomu_SamodRd_D (Rajasthan)","sr-status":"5","sr-status-label":"MANIFEST GENERATED"},
      {"date":"2023-05-19 15:32:17","status":"X-PPOM","activity":"In Transit - Shipment picked up","location":"Chomu_SamodRd_D (Rajasthan)","sr-status":"42","sr-status-label":"PICKED UP"},
      {"date":"2023-05-19 16:40:19","status":"X-PIOM","activity":"In Transit - Shipment Recieved at Origin Center","location":"Chomu_SamodRd_D (Rajasthan)","sr-status":"6","sr-status-label":"SHIPPED"},
      {"date":"2023-05-19 17:19:14","status":"X-DBL1F","activity":"In Transit - Added to Bag","location":"Chomu_SamodRd_D (Rajasthan)","sr-status":"NA","sr-status-label":"NA"},
      {"date":"2023-05-20 10:27:56","status":"X-DLL2F","activity":"In Transit - Bag Added To Trip","location":"Chomu_SamodRd_D (Rajasthan)","sr-status":"18","sr-status-label":"IN TRANSIT"},
      {"date":"2023-05-20 12:23:44","status":"X-ILL2F","activity":"In Transit - Trip Arrived","location":"Jaipur_Sez_GW (Rajasthan)","sr-status":"18","sr-status-label":"IN TRANSIT"},
      {"date":"2023-05-20 14:24:50","status":"X-ILL1F","activity":"In Transit - Bag Received at Facility","location":"Jaipur_Sez_GW (Rajasthan)","sr-status":"18","sr-status-label":"IN TRANSIT"},
      {"date":"2023-05-20 15:23:38","status":"X-IBD3F","activity":"In Transit - Shipment Received at Facility","location":"Jaipur_Sez_GW (Rajasthan)","sr-status":"18","sr-status-label":"IN TRANSIT"},
      {"date":"2023-05-20 15:23:38","status":"X-DWS","activity":"In Transit - System weight captured","location":"Jaipur_Sez_GW (Rajasthan)","sr-status":"NA","sr-status-label":"NA"},
      {"date":"2023-05-20 16:01:22","status":"X-DBL1F","activity":"In Transit - Added to Bag","location":"Jaipur_Sez_GW (Rajasthan)","sr-status":"NA","sr-status-label":"NA"},
      {"date":"2023-05-21 09:50:45","status":"X-DLL2F","activity":"In Transit - Bag Added To Trip","location":"Jaipur_Sez_GW (Rajasthan)","sr-status":"18","sr-status-label":"IN TRANSIT"},
      {"date":"2023-05-22 22:01:12","status":"X-ILL2F","activity":"In Transit - Trip Arrived","location":"Bhiwandi_Mega_GW (Maharashtra)","sr-status":"18","sr-status-label":"IN TRANSIT"},
      {"date":"2023-05-23 02:55:34","status":"X-ILL1F","activity":"In Transit - Bag Received at Facility","location":"Bhiwandi_Mega_GW (Maharashtra)","sr-status":"18","sr-status-label":"IN TRANSIT"},
      {"date":"2023-05-23 07:38:08","status":"X-DLL2F","activity":"In Transit - Bag Added To Trip","location":"Bhiwandi_Mega_GW (Maharashtra)","sr-status":"18","sr-status-label":"IN TRANSIT"},
      {"date":"2023-05-23 09:48:27","status":"X-ILL2F","activity":"In Transit - Trip Arrived","location":"Mumbai_MiraRdIndEstate_I (Maharashtra)","sr-status":"18","sr-status-label":"IN TRANSIT"},
      {"date":"2023-05-23 10:14:27","status":"X-ILL1F","activity":"In Transit - Bag Received at Facility","location":"Mumbai_MiraRdIndEstate_I (Maharashtra)","sr-status":"18","sr-status-label":"IN TRANSIT"},
      {"location":"Mumbai_MiraRdIndEstate_I (Maharashtra)","date":"2023-05-23 11:43:46","activity":"In Transit - Shipment Received at Facility","status":"X-IBD3F","sr-status":"18","sr-status-label":"IN TRANSIT"}
   ],
   "is_return":0,
   "channel_id":3422553,
   "pod_status":"OTP Based Delivery",
   "pod":"Not Available",
   "qc_image":"",
   "qc_failure_reason":""
}
"""

SAMPLE_B = r"""
{
  "awb": 59629792084,
  "current_status": "Delivered",
  "order_id": "13905312",
  "current_timestamp": "2021-07-02 16:41:59",
  "etd": "2021-07-02 16:41:59",
  "current_status_id": 7,
  "shipment_status": "Delivered",
  "shipment_status_id": 7,
  "channel_order_id": "enter your channel order id",
  "channel": "enter your channel name",
  "courier_name": "enter courier_name",
  "scans": [
    {"date": "2019-06-25 12:08:00", "activity": "SHIPMENT DELIVERED", "location": "PATIALA"},
    {"date": "2019-06-25 12:06:00", "activity": "NECESSARY CHARGES PENDING FROM CONSIGNEE", "location": "PATIALA"},
    {"date": "2019-06-25 10:18:00", "activity": "SHIPMENT OUT FOR DELIVERY", "location": "PATIALA"},
    {"date": "2019-06-25 09:40:00", "activity": "SHIPMENT ARRIVED", "location": "PATIALA"},
    {"date": "2019-06-25 07:32:00", "activity": "SHIPMENT FURTHER CONNECTED", "location": "AMBALA AIR HUB"},
    {"date": "2019-06-25 07:03:00", "activity": "SHIPMENT ARRIVED AT HUB", "location": "AMBALA AIR HUB"},
    {"date": "2019-06-25 00:45:00", "activity": "SHIPMENT FURTHER CONNECTED", "location": "KAPASHERA HUB"},
    {"date": "2019-06-25 00:20:00", "activity": "SHIPMENT ARRIVED AT HUB", "location": "KAPASHERA HUB"},
    {"date": "2019-06-24 23:17:00", "activity": "SHIPMENT FURTHER CONNECTED", "location": "COD PROCESSING CENTRE I"},
    {"date": "2019-06-24 21:14:00", "activity": "SHIPMENT ARRIVED", "location": "COD PROCESSING CENTRE I"},
    {"date": "2019-06-24 18:56:00", "activity": "SHIPMENT PICKED UP", "location": "COD PROCESSING CENTRE I"}
  ]
}
"""

SAMPLE_C = r"""
{"tracking_data":{"track_status":1,"shipment_status":7,"shipment_track":[{"id":236612717,"awb_code":"141123221084922","courier_company_id":51,"shipment_id":236612717,"order_id":237157589,"pickup_date":"2022-07-18 20:28:00","delivered_date":"2022-07-19 11:37:00","weight":"0.30","packages":1,"current_status":"Delivered","delivered_to":"Chittoor","destination":"Chittoor","consignee_name":"","origin":"Banglore","courier_agent_details":null,"courier_name":"Xpressbees Surface","edd":null,"pod":"Available","pod_status":"https://s3-ap-southeast-1.amazonaws.com/kr-shipmultichannel/courier/51/pod/141123221084922.png"}],"shipment_track_activities":[{"date":"2022-07-19 11:37:00","status":"DLVD","activity":"Delivered","location":"MADANPALLI, Madanapalli, ANDHRA PRADESH","sr-status":"7","sr-status-label":"DELIVERED"},{"date":"2022-07-19 08:57:00","status":"OFD","activity":"Out for Delivery ...","location":"MADANPALLI, Madanapalli, ANDHRA PRADESH","sr-status":"17","sr-status-label":"OUT FOR DELIVERY"},{"date":"2022-07-19 07:33:00","status":"RAD","activity":"Reached at Destination Shipment BagOut From Bag : nxbg03894488","location":"MADANPALLI, Madanapalli, ANDHRA PRADESH","sr-status":"38","sr-status-label":"REACHED AT DESTINATION HUB"},{"date":"2022-07-18 21:02:00","status":"IT","activity":"InTransit Shipment added in Bag nxbg03894488","location":"BLR/FC1, BANGALORE, KARNATAKA","sr-status":"18","sr-status-label":"IN TRANSIT"},{"date":"2022-07-18 20:28:00","status":"PKD","activity":"Picked Shipment InScan from Manifest","location":"BLR/FC1, BANGALORE, KARNATAKA","sr-status":"6","sr-status-label":"SHIPPED"},{"date":"2022-07-18 13:50:00","status":"PUD","activity":"PickDone ","location":"RTO/CHD, BANGALORE, KARNATAKA","sr-status":"42","sr-status-label":"PICKED UP"},{"date":"2022-07-18 10:04:00","status":"OFP","activity":"Out for Pickup ","location":"RTO/CHD, BANGALORE, KARNATAKA","sr-status":"19","sr-status-label":"OUT FOR PICKUP"},{"date":"2022-07-18 09:51:00","status":"DRC","activity":"Pending Manifest Data Received","location":"RTO/CHD, BANGALORE, KARNATAKA","sr-status":"NA","sr-status-label":"NA"}],"track_url":"https://shiprocket.co//tracking/141123221084922","etd":"2022-07-20 19:28:00","qc_response":{"qc_image":"","qc_failed_reason":""}}}
"""
